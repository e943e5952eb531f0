"""Drift features of one study: header facts plus image statistics (pure numpy/scipy).

Image statistics (masks from :mod:`ichsilent.imaging.masks`, half-resolution in plane):

* ``brain_window_mean`` / ``brain_window_std``: brain window (40/80) of intracranial voxels;
* ``noise_hu``: robust noise estimate: 1.4826 x MAD of the residual of a 3 x 3 mean filter,
  over eroded brain parenchyma (15-60 HU) of the central slices at full resolution, scaled by
  sqrt(9/8) so white noise of sigma s reads s;
* ``hyperdense_fraction``: intracranial voxels in 50-90 HU (acute blood; also calcification
  edges and dural sinuses — a drift signal, not a diagnosis);
* ``skull_thickness_mm``: median over central slices of r_out - r_in, where r_in and r_out
  are the equivalent-circle radii of the cavity and of cavity + bone;
* ``intracranial_volume_ml``: intracranial voxels x voxel volume (slice spacing along normal);
* ``air_fraction``: voxels below -900 HU in the whole field of view.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from ichsilent.imaging.decode import DecodedSeries
from ichsilent.imaging.masks import HeadMasks, central_slices, head_masks
from ichsilent.imaging.windows import Window, apply_window

HYPERDENSE_HU = (50, 90)
PARENCHYMA_HU = (15, 60)
NOISE_SLICES = 3
_MAD_TO_SD = 1.4826
_BOX3_RESIDUAL = math.sqrt(8.0 / 9.0)  # residual sd of a 3x3 mean filter on white noise


@dataclass(frozen=True, slots=True)
class ImageStatistics:
    brain_window_mean: float
    brain_window_std: float
    noise_hu: float
    hyperdense_fraction: float
    skull_thickness_mm: float
    intracranial_volume_ml: float
    air_fraction: float


@dataclass(frozen=True, slots=True)
class StudyFeatures:
    """One row of the drift table: metadata features, then image statistics."""

    institution: str
    manufacturer: str
    model: str
    kernel: str
    kvp: float | None
    exposure_mas: float | None
    slice_thickness_mm: float | None
    pixel_spacing_mm: float
    matrix: int  # max(Rows, Columns)
    slice_count: int
    tilt_deg: float
    patient_age_years: float | None
    patient_sex: str
    patient_class: str | None
    image: ImageStatistics

    def as_dict(self) -> dict[str, Any]:
        """Flat dict (image statistics inlined) for a drift table."""
        out = asdict(self)
        out.update(out.pop("image"))
        return out


def noise_estimate(
    hu: NDArray[np.int16], region: NDArray[np.bool_], *, slices: NDArray[np.intp] | None = None
) -> float:
    """Robust noise sd (HU) of ``hu`` over ``region`` (same shape, full resolution)."""
    idx = slices if slices is not None else np.arange(hu.shape[0])
    if idx.size == 0:
        return float("nan")
    vol = hu[idx].astype(np.float32)
    residual = vol - ndimage.uniform_filter(vol, size=(1, 3, 3), mode="nearest")
    values = residual[region[idx]]
    if values.size < 50:
        return float("nan")
    mad = float(np.median(np.abs(values - np.median(values))))
    return _MAD_TO_SD * mad / _BOX3_RESIDUAL


def _full_resolution(
    mask: NDArray[np.bool_], stride: int, shape: tuple[int, int]
) -> NDArray[np.bool_]:
    if stride == 1:
        return mask
    up = np.repeat(np.repeat(mask, stride, axis=-2), stride, axis=-1)
    return up[..., : shape[0], : shape[1]]


def image_statistics(
    hu: NDArray[np.int16],
    pixel_spacing: tuple[float, float],
    slice_spacing_mm: float,
    *,
    masks: HeadMasks | None = None,
) -> ImageStatistics:
    """Image statistics of an HU volume (z, y, x); see the module docstring."""
    m = masks or head_masks(hu, pixel_spacing)
    sub = m.subsample(hu)
    inside = sub[m.intracranial]
    n_inside = inside.size
    if n_inside:
        brain = apply_window(inside, Window.BRAIN)
        brain_mean, brain_std = float(brain.mean()), float(brain.std())
        lo, hi = HYPERDENSE_HU
        hyperdense = float(np.count_nonzero((inside >= lo) & (inside <= hi))) / n_inside
    else:
        brain_mean = brain_std = hyperdense = float("nan")

    central = central_slices(sub.shape[0])
    noise_idx = central[
        np.linspace(0, central.size - 1, min(NOISE_SLICES, central.size)).astype(int)
    ]
    eroded = ndimage.binary_erosion(
        m.intracranial[noise_idx], structure=np.ones((1, 3, 3), bool), iterations=2
    )
    region_sub = np.zeros_like(m.intracranial)
    region_sub[noise_idx] = eroded
    region = _full_resolution(region_sub, m.stride, (hu.shape[1], hu.shape[2]))
    lo, hi = PARENCHYMA_HU
    region = region & (hu >= lo) & (hu <= hi) if region.any() else region
    noise = noise_estimate(hu, region, slices=noise_idx)

    thickness = []
    for k in central:
        cavity = float(np.count_nonzero(m.enclosed[k])) * m.pixel_area_mm2
        bone = float(np.count_nonzero(m.bone[k])) * m.pixel_area_mm2
        if cavity > 0:
            thickness.append(math.sqrt((cavity + bone) / math.pi) - math.sqrt(cavity / math.pi))
    voxel_ml = m.pixel_area_mm2 * slice_spacing_mm / 1000.0
    return ImageStatistics(
        brain_window_mean=brain_mean,
        brain_window_std=brain_std,
        noise_hu=noise,
        hyperdense_fraction=hyperdense,
        skull_thickness_mm=float(np.median(thickness)) if thickness else float("nan"),
        intracranial_volume_ml=n_inside * voxel_ml,
        air_fraction=float(np.count_nonzero(sub < -900)) / max(1, sub.size),
    )


def study_features(
    series: DecodedSeries, *, masks: HeadMasks | None = None, institution: str | None = None
) -> StudyFeatures:
    """Drift features of a decoded series (``institution`` overrides InstitutionName)."""
    g, md = series.geometry, series.metadata
    stats = image_statistics(series.hu, g.pixel_spacing, g.slice_spacing_mm, masks=masks)
    return StudyFeatures(
        institution=md.institution if institution is None else institution,
        manufacturer=md.manufacturer,
        model=md.model,
        kernel=md.kernel,
        kvp=md.kvp,
        exposure_mas=md.exposure_mas,
        slice_thickness_mm=md.slice_thickness_mm,
        pixel_spacing_mm=float(np.mean(g.pixel_spacing)),
        matrix=max(g.rows, g.columns),
        slice_count=g.slice_count,
        tilt_deg=g.tilt_deg,
        patient_age_years=md.patient_age_years,
        patient_sex=md.patient_sex.value,
        patient_class=None if md.patient_class is None else md.patient_class.value,
        image=stats,
    )
