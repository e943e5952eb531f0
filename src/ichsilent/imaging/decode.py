"""Decode a CT series (pydicom Datasets already in memory) into a checked HU volume.

``decode_series`` orders the images by position, checks the geometry (see
:mod:`ichsilent.imaging.geometry`), decodes the pixels with pydicom 3 (pylibjpeg handles
JPEG, JPEG-LS via other plugins, JPEG 2000 and RLE) and converts them to Hounsfield units:

    HU = stored * RescaleSlope + RescaleIntercept      (1 / 0 assumed, and flagged, if absent)

PixelPaddingValue (0028,0120) pixels (and the PixelPaddingRangeLimit range) and anything below
-1024 HU become air (-1024); the result is int16 (z, y, x). No file or network I/O happens
here: the caller reads the files or the WADO-RS response.

The RSNA 2019 12-bit quirk: some images of the RSNA ICH data have BitsStored 12,
PixelRepresentation 0 and RescaleIntercept > -100 although the stored values are HU wrapped
modulo 4096 (air around -1000 HU is stored near 3096). The community fix (RSNA 2019 Kaggle
kernels) adds 1000, subtracts 4096 from values >= 4096 and uses intercept -1000. It is a
heuristic for that data set, not DICOM; decode only *flags* such images unless the caller
asks for the fix (``fix_12bit_wraparound=True``, meant for RSNA training code).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ichsilent.domain import PatientClass, QuarantineReason
from ichsilent.errors import DicomInputError
from ichsilent.imaging import geometry as geo
from ichsilent.imaging.metadata import DecodeFlag, SeriesMetadata, number, series_metadata

log = logging.getLogger(__name__)

AIR_HU = -1024
INT16_MAX = int(np.iinfo(np.int16).max)


@dataclass(frozen=True, slots=True)
class DecodedSeries:
    """A decoded, ordered, checked series. ``hu`` is read-only int16 (z, y, x)."""

    hu: NDArray[np.int16]
    geometry: geo.SeriesGeometry
    metadata: SeriesMetadata
    sop_instance_uids: tuple[str, ...]  # in volume order
    flags: frozenset[DecodeFlag] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class Rescale:
    """Stored-value to HU mapping of one image, with its padding rule."""

    slope: float = 1.0
    intercept: float = 0.0
    padding: tuple[int, int] | None = None  # inclusive stored-value range set to air
    wraparound_12bit: bool = False  # apply the RSNA fix before rescaling

    @classmethod
    def from_dataset(cls, ds: Any, *, fix_12bit_wraparound: bool = False) -> Rescale:
        slope = number(ds, "RescaleSlope")
        intercept = number(ds, "RescaleIntercept")
        pad = number(ds, "PixelPaddingValue")
        limit = number(ds, "PixelPaddingRangeLimit")
        padding = None
        if pad is not None:
            lo, hi = (pad, pad) if limit is None else sorted((pad, limit))
            padding = (int(lo), int(hi))
        wrap = fix_12bit_wraparound and rsna_12bit_quirk(ds)
        return cls(
            slope=1.0 if slope is None else slope,
            intercept=-1000.0 if wrap else (0.0 if intercept is None else intercept),
            padding=padding,
            wraparound_12bit=wrap,
        )


def rsna_12bit_quirk(ds: Any) -> bool:
    """True when an image matches the RSNA 2019 wrap-around pattern (see module docstring)."""
    return (
        number(ds, "BitsStored") == 12
        and number(ds, "PixelRepresentation") == 0
        and (number(ds, "RescaleIntercept") or 0.0) > -100
    )


def fix_12bit_wraparound(stored: NDArray[Any]) -> NDArray[np.int32]:
    """RSNA 2019 fix on stored values: +1000, then -4096 where >= 4096 (use intercept -1000)."""
    out = stored.astype(np.int32) + 1000
    out[out >= 4096] -= 4096
    return out


def to_hu(stored: NDArray[Any], rescale: Rescale) -> tuple[NDArray[np.int16], bool]:
    """HU int16 of one image's stored values; second value: whether values were clipped high."""
    raw = fix_12bit_wraparound(stored) if rescale.wraparound_12bit else stored
    if rescale.slope == 1.0 and float(rescale.intercept).is_integer():
        hu: NDArray[Any] = raw.astype(np.int32) + int(rescale.intercept)
    else:
        hu = np.rint(raw.astype(np.float32) * np.float32(rescale.slope) + rescale.intercept)
    clipped = bool(hu.max(initial=AIR_HU) > INT16_MAX)
    out = np.clip(hu, AIR_HU, INT16_MAX).astype(np.int16)
    if rescale.padding is not None:
        lo, hi = rescale.padding
        out[(stored >= lo) & (stored <= hi)] = AIR_HU
    return out, clipped


def _decode_pixels(ds: Any, inst: geo.InstanceGeometry) -> NDArray[Any]:
    if "PixelData" not in ds:
        raise DicomInputError(
            QuarantineReason.MISSING_TAG,
            f"PixelData (7FE0,0010) is missing in {inst.label}; expected the image pixels; "
            "fix: retrieve the full instance (WADO-RS instance or frames), not only metadata",
        )
    try:
        arr = ds.pixel_array
    except Exception as exc:  # decoders raise ValueError, RuntimeError, NotImplementedError...
        syntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "?")
        raise DicomInputError(
            QuarantineReason.UNDECODABLE_PIXELS,
            f"PixelData (7FE0,0010) of {inst.label} (TransferSyntaxUID {syntax}) cannot be "
            f"decoded: {exc}; expected {inst.rows}x{inst.columns} pixels; fix: re-send the "
            "image from the scanner or install the pylibjpeg plugin for this transfer syntax",
        ) from exc
    if arr.shape != (inst.rows, inst.columns):
        raise DicomInputError(
            QuarantineReason.UNDECODABLE_PIXELS,
            f"PixelData (7FE0,0010) of {inst.label} decodes to shape {arr.shape}; expected "
            f"Rows x Columns = {inst.rows}x{inst.columns} single-sample pixels; fix: select a "
            "single-frame greyscale CT series",
        )
    return arr


def _drop_same_uid(
    datasets: Sequence[Any], instances: list[geo.InstanceGeometry]
) -> tuple[list[Any], list[geo.InstanceGeometry], int]:
    seen: set[str] = set()
    keep_ds, keep_inst = [], []
    for ds, inst in zip(datasets, instances, strict=True):
        if inst.sop_instance_uid in seen:
            log.info("dropping repeated instance %s", inst.label)
            continue
        seen.add(inst.sop_instance_uid)
        keep_ds.append(ds)
        keep_inst.append(inst)
    return keep_ds, keep_inst, len(datasets) - len(keep_ds)


def decode_series(
    datasets: Sequence[Any],
    *,
    limits: geo.GeometryLimits | None = None,
    patient_class: PatientClass | None = None,
    fix_12bit_wraparound: bool = False,
) -> DecodedSeries:
    """Order, check and decode the images of one series into HU.

    Raises DicomInputError with reason MISSING_TAG, INCONSISTENT_ORIENTATION,
    INCONSISTENT_MATRIX, UNDECODABLE_PIXELS, DUPLICATE_POSITIONS, TOO_FEW_SLICES or
    MISSING_SLICES; the detail names the tag, the value and the image.
    """
    limits = limits or geo.GeometryLimits()
    if not datasets:
        geo.check_count(0, limits, "the series")
    instances = [geo.read_instance_geometry(ds, i) for i, ds in enumerate(datasets)]
    datasets, instances, dropped = _drop_same_uid(datasets, instances)
    series_uid = str(getattr(datasets[0], "SeriesInstanceUID", "?"))
    what = f"series SeriesInstanceUID {series_uid}"
    geo.check_count(len(instances), limits, what)
    geo.check_orientation(instances, limits)
    geo.check_matrix(instances, limits)

    order = geo.order_by_position(instances)
    datasets = [datasets[i] for i in order]
    instances = [instances[i] for i in order]
    locations = geo.slice_locations(instances)

    flags: set[DecodeFlag] = set()
    volume = np.empty((len(instances), instances[0].rows, instances[0].columns), np.int16)
    rescales = []
    for k, (ds, inst) in enumerate(zip(datasets, instances, strict=True)):
        stored = _decode_pixels(ds, inst)
        rescale = Rescale.from_dataset(ds, fix_12bit_wraparound=fix_12bit_wraparound)
        if number(ds, "RescaleSlope") is None or number(ds, "RescaleIntercept") is None:
            flags.add(DecodeFlag.RESCALE_MISSING)
        if rescale.padding is not None:
            flags.add(DecodeFlag.PIXEL_PADDING)
        if rsna_12bit_quirk(ds):
            flags.add(
                DecodeFlag.RSNA_12BIT_WRAP_CORRECTED
                if rescale.wraparound_12bit
                else DecodeFlag.RSNA_12BIT_WRAP_SUSPECTED
            )
        volume[k], clipped = to_hu(stored, rescale)
        if clipped:
            flags.add(DecodeFlag.CLIPPED_HIGH)
        rescales.append((rescale.slope, rescale.intercept))
    if len(set(rescales)) > 1:
        flags.add(DecodeFlag.VARYING_RESCALE)

    keep = _resolve_same_positions(volume, instances, locations, limits)
    if len(keep) < len(instances):
        dropped += len(instances) - len(keep)
        volume = volume[keep]
        datasets = [datasets[i] for i in keep]
        instances = [instances[i] for i in keep]
        locations = locations[keep]
    if dropped:
        flags.add(DecodeFlag.DUPLICATES_DROPPED)
        log.info("%s: dropped %d duplicate image(s)", what, dropped)
    geo.check_count(len(instances), limits, what)
    spacing = geo.check_gaps(instances, locations, limits)
    geometry = geo.build_geometry(instances, locations, spacing)
    metadata = series_metadata(
        datasets,
        pixel_spacing=geometry.pixel_spacing,
        rows=geometry.rows,
        columns=geometry.columns,
        slice_spacing_mm=spacing,
        tilt_deg=geometry.tilt_deg,
        patient_class=patient_class,
    )
    volume.flags.writeable = False
    return DecodedSeries(
        hu=volume,
        geometry=geometry,
        metadata=metadata,
        sop_instance_uids=tuple(inst.sop_instance_uid for inst in instances),
        flags=frozenset(flags),
    )


def _resolve_same_positions(
    volume: NDArray[np.int16],
    instances: Sequence[geo.InstanceGeometry],
    locations: NDArray[np.float64],
    limits: geo.GeometryLimits,
) -> list[int]:
    """Indices to keep: identical images at one position collapse; different ones raise."""
    drop: set[int] = set()
    for i, j in geo.same_position_groups(locations, limits):
        if i in drop:  # chain of three: compare with the kept one
            i = max(k for k in range(i) if k not in drop) if i > 0 else i
        if np.array_equal(volume[i], volume[j]):
            log.info("dropping %s: same pixels as %s", instances[j].label, instances[i].label)
            drop.add(j)
            continue
        raise DicomInputError(
            QuarantineReason.DUPLICATE_POSITIONS,
            f"{instances[i].label} and {instances[j].label} share ImagePositionPatient "
            f"(0020,0032) {list(instances[j].position)} (slice location {locations[j]:.2f} mm) "
            "but have different pixels; expected one image per position; fix: the series "
            "mixes two reconstructions or acquisitions — select one",
        )
    return [k for k in range(len(instances)) if k not in drop]
