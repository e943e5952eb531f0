"""render_series: a StudySpec + SeriesPlan -> HU volume, DICOM geometry and bleed masks.

The noiseless anatomy (with bleeds, mimics and study-level artefacts) is cached per
study and geometry, so the bone series of a study reuses what its soft series built.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from ichsilent.domain import Subtype
from ichsilent.simulate import acquisition as acq
from ichsilent.simulate.anatomy import COVERAGE_MM, HEAD_SEMI_MM, build_anatomy
from ichsilent.simulate.hemorrhage import midline_shift, paint
from ichsilent.simulate.mimics import paint_mimic
from ichsilent.simulate.render_grid import F32, SliceGeometry, build_grid, upsample
from ichsilent.simulate.spec import Artefact, SeriesKind, SeriesPlan, StudySpec

log = logging.getLogger(__name__)

HU_MIN, HU_MAX = -1024, 3071
_CACHE: OrderedDict[tuple, tuple[np.ndarray, dict[Subtype, np.ndarray]]] = OrderedDict()
_CACHE_SIZE = 3


@dataclass(frozen=True, slots=True)
class RenderedSeries:
    """One rendered series: int16 HU (n, rows, cols), its DICOM geometry and true masks."""

    hu: np.ndarray
    image_position_mm: np.ndarray  # (n, 3) ImagePositionPatient, LPS
    image_orientation: tuple[float, float, float, float, float, float]
    pixel_spacing_mm: tuple[float, float]  # (row spacing, column spacing)
    slice_thickness_mm: float
    masks: dict[Subtype, np.ndarray] = field(default_factory=dict)
    window_center: float = 40.0
    window_width: float = 80.0
    spacing_between_slices_mm: float = 0.0
    derived: bool = False  # DERIVED\\SECONDARY (reformat)
    contrast: bool = False


def _study_rng(spec: StudySpec, salt: str) -> np.random.Generator:
    """Study-level randomness (gyri, artefact placement) shared by all series of a study."""
    h = hashlib.sha256(f"{spec.study_uid}|{salt}".encode()).digest()
    return np.random.default_rng(int.from_bytes(h[:8], "little"))


def _semi(spec: StudySpec) -> tuple[float, float, float]:
    s = spec.head.scale
    a, b, c = HEAD_SEMI_MM
    return (a * s, b * s * spec.head.aspect, c * s)


def geometry(spec: StudySpec, plan: SeriesPlan) -> SliceGeometry:
    """Slice positions/orientation; axial slices step along the table (z), tilted planes."""
    s = spec.head.scale
    off = np.asarray(spec.head.offset_mm, dtype=float)
    rows, cols = plan.rows, plan.columns
    fov = plan.field_of_view_mm
    dr, dc = fov / rows, fov / cols
    thick = max(plan.slice_thickness_mm, 0.5)
    if plan.kind == SeriesKind.REFORMAT:  # coronal, anterior to posterior
        row_dir, col_dir = np.array([1.0, 0, 0]), np.array([0, 0, -1.0])
        step = np.array([0, 1.0, 0]) * thick
        lo, hi = -100.0 * s + off[1], 100.0 * s + off[1]
        n = plan.n_slices or max(1, round((hi - lo) / thick))
        centres = (
            np.array([0.0, lo + thick / 2, off[2] + 10.0 * s])[None, :]
            + np.arange(n)[:, None] * step
        )
    else:
        t = math.radians(plan.gantry_tilt_deg)
        row_dir = np.array([1.0, 0, 0])
        col_dir = np.array([0.0, math.cos(t), -math.sin(t)])
        dz = thick / max(math.cos(t), 0.2)  # table increment so tilted slices abut
        lo, hi = COVERAGE_MM[0] * s + off[2], COVERAGE_MM[1] * s + off[2]
        n = plan.n_slices or max(1, round((hi - lo) * math.cos(t) / thick))
        z = lo + dz / 2 + np.arange(n) * dz
        centres = np.stack([np.zeros(n), np.zeros(n), z], axis=1)
    corner = -(fov / 2 - dc / 2) * row_dir - (fov / 2 - dr / 2) * col_dir
    return SliceGeometry(
        positions=centres + corner,
        row_dir=row_dir,
        col_dir=col_dir,
        rows=rows,
        columns=cols,
        spacing=(dr, dc),
        thickness=thick,
    )


def _noiseless(
    spec: StudySpec, geo: SliceGeometry, contrast: bool
) -> tuple[np.ndarray, dict[Subtype, np.ndarray]]:
    """Fine-grid noiseless HU (float32) and masks; cached per study + geometry."""
    key = (
        spec.study_uid,
        contrast,
        geo.rows,
        geo.columns,
        geo.thickness,
        geo.positions.tobytes(),
        geo.col_dir.tobytes(),
        spec.head,
        spec.hemorrhages,
        spec.mimics,
        spec.artefacts,
    )
    hit = _CACHE.get(key)
    if hit is not None:
        _CACHE.move_to_end(key)
        return hit
    small = min(geo.rows, geo.columns)
    factor = 4 if small >= 1024 else 2 if small >= 384 else 1
    n_sub = max(1, math.ceil(geo.thickness / 2.5 - 1e-6))
    head = spec.head
    grid, box = build_grid(geo, head, factor, n_sub, _semi(spec))
    t = build_anatomy(
        grid,
        head,
        _study_rng(spec, "anatomy"),
        shift_mm=midline_shift(spec.hemorrhages),
        contrast=contrast,
    )
    srng = _study_rng(spec, "findings")
    coarse_masks: dict[Subtype, np.ndarray] = {}
    for h in spec.hemorrhages:
        m = paint(grid, t, h, srng)
        coarse_masks[h.subtype] = coarse_masks.get(h.subtype, np.zeros_like(m)) | m
    calc = np.zeros(grid.shape, dtype=bool)
    for mim in spec.mimics:
        calc |= paint_mimic(grid, t, mim)
    arng = _study_rng(spec, "artefacts")
    if Artefact.POST_OPERATIVE in spec.artefacts:
        acq.post_operative(grid, t, arng)
    if Artefact.METAL in spec.artefacts:
        acq.metal(grid, t, arng)
    acq.beam_hardening(
        grid,
        t,
        spec.scanner.beam_hardening + (0.5 if Artefact.BEAM_HARDENING in spec.artefacts else 0.0),
    )
    nz = grid.shape[0] // n_sub
    hu_c = t.hu.reshape(nz, n_sub, *grid.shape[1:]).mean(axis=1)  # partial volume
    hu_c = acq.blur3(hu_c, 0.12 * (1.0 - spec.scanner.sharpness))
    hu = np.full((nz, geo.rows, geo.columns), F32(-1000.0), dtype=F32)
    hu[:, box[0], box[1]] = upsample(hu_c, factor)
    if Artefact.MOTION in spec.artefacts:
        acq.motion(hu, arng)
    masks: dict[Subtype, np.ndarray] = {}
    for sub, m in coarse_masks.items():
        m &= ~calc  # calcifications are never blood
        frac = m.reshape(nz, n_sub, *grid.shape[1:]).mean(axis=1, dtype=F32) >= F32(0.5)
        full = np.zeros(hu.shape, dtype=bool)
        full[:, box[0], box[1]] = frac.repeat(factor, axis=1).repeat(factor, axis=2)
        masks[sub] = full
    _CACHE[key] = (hu, masks)
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return hu, masks


def _localizer(spec: StudySpec, plan: SeriesPlan, rng: np.random.Generator) -> RenderedSeries:
    """Lateral scout: line integral of attenuation through the head, left to right."""
    s = spec.head.scale
    off = np.asarray(spec.head.offset_mm, dtype=float)
    fov = plan.field_of_view_mm if plan.field_of_view_mm > 240.0 else 256.0
    small = 128
    d = fov / small
    thick = 3.0
    n = int(2 * 90 * s / thick)
    row_dir, col_dir = np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, -1.0])
    x = off[0] - 90 * s + thick / 2 + np.arange(n) * thick
    corner = np.array([0.0, -(fov / 2 - d / 2), off[2] + 20 * s + fov / 2 - d / 2])
    geo = SliceGeometry(
        np.stack([x, np.full(n, corner[1]), np.full(n, corner[2])], axis=1),
        row_dir,
        col_dir,
        small,
        small,
        (d, d),
        thick,
    )
    grid, box = build_grid(geo, spec.head, 1, 1, _semi(spec))
    t = build_anatomy(grid, spec.head, _study_rng(spec, "anatomy"))
    mu = np.clip(t.hu + F32(1000.0), 0, None).sum(axis=0) * F32(thick / 1000.0)  # mm of water
    proj = np.zeros((small, small), dtype=F32)
    proj[box[0], box[1]] = mu
    img = ndimage.zoom(proj, (plan.rows / small, plan.columns / small), order=1)
    img = F32(-1000.0) + img * F32(12.0)
    img += F32(8.0) * rng.standard_normal(img.shape, dtype=F32)
    hu = np.clip(np.rint(img), HU_MIN, HU_MAX).astype(np.int16)[None]
    dr, dc = fov / plan.rows, fov / plan.columns
    pos = np.array([[0.0 + off[0], -(fov / 2 - dc / 2), corner[2] + d / 2 - dr / 2]])
    return RenderedSeries(
        hu=hu,
        image_position_mm=pos,
        image_orientation=(0, 1, 0, 0, 0, -1),
        pixel_spacing_mm=(dr, dc),
        slice_thickness_mm=plan.slice_thickness_mm,
        window_center=500.0,
        window_width=3000.0,
    )


def render_series(spec: StudySpec, plan: SeriesPlan, rng: np.random.Generator) -> RenderedSeries:
    """Render one series; deterministic given the study spec, plan and rng state."""
    t0 = time.perf_counter()
    if plan.kind == SeriesKind.LOCALIZER:
        return _localizer(spec, plan, rng)
    geo = geometry(spec, plan)
    contrast = plan.kind == SeriesKind.CONTRAST
    bone = plan.kind == SeriesKind.AXIAL_BONE
    clean, masks = _noiseless(spec, geo, contrast)
    vol = acq.sharpen(clean, 0.35) if bone else clean.copy()
    sigma = acq.noise_sigma(spec.scanner, geo.thickness, bone)
    acq.add_noise(vol, sigma, spec.scanner.sharpness, bone, rng)
    np.rint(vol, out=vol)
    np.clip(vol, HU_MIN, HU_MAX, out=vol)
    hu = vol.astype(np.int16)
    wc, ww = (500.0, 3000.0) if bone else (40.0, 80.0)
    if contrast:
        wc, ww = 50.0, 150.0
    log.debug("rendered %s %s in %.3fs", spec.study_uid, plan.kind, time.perf_counter() - t0)
    spacing = (
        float(
            np.linalg.norm(geo.positions[1] - geo.positions[0])
            * abs(
                geo.normal
                @ (geo.positions[1] - geo.positions[0])
                / (np.linalg.norm(geo.positions[1] - geo.positions[0]) + 1e-9)
            )
        )
        if len(geo.positions) > 1
        else geo.thickness
    )
    return RenderedSeries(
        hu=hu,
        image_position_mm=geo.positions.copy(),
        image_orientation=geo.orientation,
        pixel_spacing_mm=geo.spacing,
        slice_thickness_mm=geo.thickness,
        masks={k: m.copy() for k, m in masks.items()},
        window_center=wc,
        window_width=ww,
        spacing_between_slices_mm=round(spacing, 4),
        derived=plan.kind == SeriesKind.REFORMAT,
        contrast=contrast,
    )
