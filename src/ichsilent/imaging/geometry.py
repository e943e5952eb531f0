"""Slice geometry of one CT series: ordering, spacing, tilt and consistency checks.

Slices are ordered by the projection of ImagePositionPatient (0020,0032) on the slice
normal (row cosine x column cosine of ImageOrientationPatient (0020,0037)) — never by
InstanceNumber, which scanners and PACS renumber freely. Index 0 is the most negative
projection; for an unrotated axial series (normal +z in LPS) that is the most inferior slice.

Everything here is pure: callers pass the attributes (or pydicom Datasets already in memory)
and get numbers back, or a :class:`~ichsilent.errors.DicomInputError` whose ``reason`` is a
:class:`~ichsilent.domain.QuarantineReason` and whose ``detail`` names tag, value and slice.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ichsilent.domain import QuarantineReason
from ichsilent.errors import DicomInputError

log = logging.getLogger(__name__)

Vec3 = tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class GeometryLimits:
    """Tolerances of the geometry checks (defaults suit clinical head CT)."""

    min_slices: int = 10
    gap_factor: float = 1.5  # a spacing above gap_factor x median spacing is a missing slice
    orientation_tolerance_deg: float = 1.0  # between the IOPs of one series
    duplicate_tolerance_mm: float = 0.01  # two slices closer than this share a position
    spacing_tolerance: float = 1e-3  # relative PixelSpacing difference still "the same"


@dataclass(frozen=True, slots=True)
class InstanceGeometry:
    """The geometry attributes of one image, read from its header."""

    sop_instance_uid: str
    instance_number: int | None
    position: Vec3
    orientation: tuple[float, float, float, float, float, float]
    pixel_spacing: tuple[float, float]  # (between rows, between columns) in mm
    rows: int
    columns: int

    @property
    def label(self) -> str:
        """How an error message names this image."""
        number = "?" if self.instance_number is None else str(self.instance_number)
        return f"SOPInstanceUID {self.sop_instance_uid} (InstanceNumber {number})"


@dataclass(frozen=True, slots=True)
class SeriesGeometry:
    """Geometry of an ordered, checked series (index i matches volume[i])."""

    row_cosine: Vec3
    column_cosine: Vec3
    normal: Vec3
    pixel_spacing: tuple[float, float]  # (row spacing = y, column spacing = x) in mm
    rows: int
    columns: int
    positions: tuple[Vec3, ...]  # ImagePositionPatient of each slice, in volume order
    slice_locations: tuple[float, ...]  # projection of each position on the normal (mm)
    slice_spacing_mm: float  # median distance between neighbouring slices along the normal
    tilt_deg: float  # rotation of the image plane about the patient x axis (gantry tilt)
    obliquity_deg: float  # rotation out of the y-z plane (not a gantry tilt)
    shear_deg: float  # angle between the slice stack direction and the normal

    @property
    def slice_count(self) -> int:
        return len(self.positions)

    @property
    def extent_mm(self) -> float:
        return self.slice_locations[-1] - self.slice_locations[0] if self.positions else 0.0

    def affine(self) -> NDArray[np.float64]:
        """4x4 LPS affine mapping (column x, row y, slice z) voxel indices to mm.

        The third column is the mean step between slice positions, so a tilted (sheared)
        stack maps correctly.
        """
        out = np.eye(4)
        out[:3, 0] = np.asarray(self.row_cosine) * self.pixel_spacing[1]
        out[:3, 1] = np.asarray(self.column_cosine) * self.pixel_spacing[0]
        first = np.asarray(self.positions[0])
        if len(self.positions) > 1:
            out[:3, 2] = (np.asarray(self.positions[-1]) - first) / (len(self.positions) - 1)
        else:
            out[:3, 2] = np.asarray(self.normal) * self.slice_spacing_mm
        out[:3, 3] = first
        return out


def _numbers(ds: Any, keyword: str, count: int, label: str, tag: str) -> tuple[float, ...]:
    value = getattr(ds, keyword, None)
    if value is None or value == "":
        raise DicomInputError(
            QuarantineReason.MISSING_TAG,
            f"{keyword} {tag} is missing in {label}; expected {count} numbers; "
            "fix: re-export the series from the scanner or PACS with full geometry "
            "(multi-frame Enhanced CT is not supported: ask for classic single-frame images)",
        )
    try:
        numbers = tuple(float(v) for v in (value if _is_multi(value) else [value]))
    except (TypeError, ValueError):
        numbers = ()
    if len(numbers) != count or not all(math.isfinite(v) for v in numbers):
        raise DicomInputError(
            QuarantineReason.MISSING_TAG,
            f"{keyword} {tag} in {label} is {value!r}; expected {count} finite numbers; "
            "fix: correct the header at the scanner or PACS",
        )
    return numbers


def _is_multi(value: Any) -> bool:
    return not isinstance(value, str | bytes) and hasattr(value, "__iter__")


def read_instance_geometry(ds: Any, index: int = 0) -> InstanceGeometry:
    """Geometry attributes of one pydicom Dataset; MISSING_TAG names the tag and the image."""
    uid = str(getattr(ds, "SOPInstanceUID", "") or f"<no SOPInstanceUID, image #{index}>")
    raw_number = getattr(ds, "InstanceNumber", None)
    try:
        number = None if raw_number in (None, "") else int(raw_number)
    except (TypeError, ValueError):
        number = None
    label = f"SOPInstanceUID {uid} (InstanceNumber {'?' if number is None else number})"
    pos = _numbers(ds, "ImagePositionPatient", 3, label, "(0020,0032)")
    iop = _numbers(ds, "ImageOrientationPatient", 6, label, "(0020,0037)")
    spacing = _numbers(ds, "PixelSpacing", 2, label, "(0028,0030)")
    if min(spacing) <= 0:
        raise DicomInputError(
            QuarantineReason.MISSING_TAG,
            f"PixelSpacing (0028,0030) in {label} is {spacing}; expected two positive numbers "
            "(mm); fix: correct the header at the scanner or PACS",
        )
    rows, cols = (_numbers(ds, kw, 1, label, tag)[0] for kw, tag in _MATRIX_TAGS)
    row, col = np.asarray(iop[:3]), np.asarray(iop[3:])
    if abs(np.linalg.norm(row) - 1) > 0.01 or abs(np.linalg.norm(col) - 1) > 0.01:
        raise DicomInputError(
            QuarantineReason.MISSING_TAG,
            f"ImageOrientationPatient (0020,0037) in {label} is {iop}; expected two unit "
            "direction cosines; fix: correct the header at the scanner or PACS",
        )
    return InstanceGeometry(
        sop_instance_uid=uid,
        instance_number=number,
        position=(pos[0], pos[1], pos[2]),
        orientation=(iop[0], iop[1], iop[2], iop[3], iop[4], iop[5]),
        pixel_spacing=(spacing[0], spacing[1]),
        rows=int(rows),
        columns=int(cols),
    )


_MATRIX_TAGS = (("Rows", "(0028,0010)"), ("Columns", "(0028,0011)"))


def slice_normal(orientation: Sequence[float]) -> NDArray[np.float64]:
    """Unit normal of the image plane: row cosine x column cosine."""
    row = np.asarray(orientation[:3], dtype=np.float64)
    col = np.asarray(orientation[3:6], dtype=np.float64)
    normal = np.cross(row, col)
    norm = float(np.linalg.norm(normal))
    return normal / norm if norm > 0 else normal


def plane_angles(orientation: Sequence[float]) -> tuple[float, float]:
    """(tilt, obliquity) of an image plane in degrees.

    ``tilt`` is the rotation of the normal about the patient x axis (a gantry tilt moves the
    normal in the y-z plane: col = (0, cos t, sin t) gives normal (0, -sin t, cos t));
    ``obliquity`` is how far the normal leaves the y-z plane (rotation about y), which no
    gantry tilt produces. An axial image has both near 0; coronal and sagittal are 90.
    """
    n = slice_normal(orientation)
    tilt = math.degrees(math.atan2(abs(n[1]), abs(n[2])))
    obliquity = math.degrees(math.asin(min(1.0, abs(float(n[0])))))
    return tilt, obliquity


def angle_between_deg(a: ArrayLike, b: ArrayLike) -> float:
    """Unsigned angle between two directions (0..90 degrees; sign of the vectors ignored)."""
    va, vb = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    denom = float(np.linalg.norm(va) * np.linalg.norm(vb))
    if denom == 0:
        return 0.0
    cos = min(1.0, abs(float(va @ vb)) / denom)
    return math.degrees(math.acos(cos))


def check_orientation(instances: Sequence[InstanceGeometry], limits: GeometryLimits) -> None:
    """INCONSISTENT_ORIENTATION when an image's row or column cosine differs from the first."""
    ref = instances[0]
    for inst in instances[1:]:
        worst = max(
            angle_between_deg(ref.orientation[:3], inst.orientation[:3]),
            angle_between_deg(ref.orientation[3:], inst.orientation[3:]),
        )
        if worst > limits.orientation_tolerance_deg:
            raise DicomInputError(
                QuarantineReason.INCONSISTENT_ORIENTATION,
                f"ImageOrientationPatient (0020,0037) of {inst.label} is "
                f"{_fmt(inst.orientation)} but {ref.label} has {_fmt(ref.orientation)} "
                f"({worst:.1f} deg apart); expected one orientation per series within "
                f"{limits.orientation_tolerance_deg:g} deg; fix: the series mixes planes "
                "(e.g. axial + reformats); select a single-plane series",
            )


def check_matrix(instances: Sequence[InstanceGeometry], limits: GeometryLimits) -> None:
    """INCONSISTENT_MATRIX when Rows/Columns or PixelSpacing differ within the series."""
    ref = instances[0]
    for inst in instances[1:]:
        if (inst.rows, inst.columns) != (ref.rows, ref.columns):
            raise DicomInputError(
                QuarantineReason.INCONSISTENT_MATRIX,
                f"Rows/Columns (0028,0010)/(0028,0011) of {inst.label} are "
                f"{inst.rows}x{inst.columns} but {ref.label} has {ref.rows}x{ref.columns}; "
                "expected one matrix per series; fix: select a series reconstructed with one "
                "matrix",
            )
        rel = max(
            abs(a - b) / b for a, b in zip(inst.pixel_spacing, ref.pixel_spacing, strict=True)
        )
        if rel > limits.spacing_tolerance:
            raise DicomInputError(
                QuarantineReason.INCONSISTENT_MATRIX,
                f"PixelSpacing (0028,0030) of {inst.label} is {_fmt(inst.pixel_spacing)} but "
                f"{ref.label} has {_fmt(ref.pixel_spacing)}; expected one field of view per "
                "series; fix: select a series reconstructed with one field of view",
            )


def slice_locations(instances: Sequence[InstanceGeometry]) -> NDArray[np.float64]:
    """Projection of every ImagePositionPatient on the first image's normal (mm)."""
    normal = slice_normal(instances[0].orientation)
    positions = np.asarray([inst.position for inst in instances], dtype=np.float64)
    return positions @ normal


def order_by_position(instances: Sequence[InstanceGeometry]) -> NDArray[np.intp]:
    """Indices that sort the images along the normal (stable: ties keep input order)."""
    return np.argsort(slice_locations(instances), kind="stable")


def same_position_groups(
    locations_sorted: NDArray[np.float64], limits: GeometryLimits
) -> list[tuple[int, int]]:
    """Pairs (i, i+1) of neighbouring sorted slices that share a position."""
    if locations_sorted.size < 2:
        return []
    close = np.flatnonzero(np.diff(locations_sorted) <= limits.duplicate_tolerance_mm)
    return [(int(i), int(i) + 1) for i in close]


def check_gaps(
    instances_sorted: Sequence[InstanceGeometry],
    locations_sorted: NDArray[np.float64],
    limits: GeometryLimits,
) -> float:
    """Median spacing; MISSING_SLICES naming the positions when a spacing is too large."""
    steps = np.diff(locations_sorted)
    if steps.size == 0:
        return 0.0
    median = float(np.median(steps))
    gaps = np.flatnonzero(steps > limits.gap_factor * median)
    if gaps.size:
        parts = []
        for i in gaps[:5]:
            a, b = instances_sorted[i], instances_sorted[i + 1]
            parts.append(
                f"{steps[i]:.2f} mm between slice {i} at {locations_sorted[i]:.2f} mm "
                f"({a.label}, ImagePositionPatient {_fmt(a.position)}) and slice {i + 1} at "
                f"{locations_sorted[i + 1]:.2f} mm ({b.label}, ImagePositionPatient "
                f"{_fmt(b.position)})"
            )
        more = f" and {gaps.size - 5} more" if gaps.size > 5 else ""
        raise DicomInputError(
            QuarantineReason.MISSING_SLICES,
            f"{gaps.size} gap(s) along the slice normal: {'; '.join(parts)}{more}; median "
            f"spacing {median:.2f} mm, expected every spacing <= {limits.gap_factor:g} x median "
            f"= {limits.gap_factor * median:.2f} mm; fix: the PACS is missing images — "
            "re-send the series from the scanner",
        )
    return median


def check_count(count: int, limits: GeometryLimits, what: str) -> None:
    """TOO_FEW_SLICES when fewer than ``limits.min_slices`` images remain."""
    if count < limits.min_slices:
        raise DicomInputError(
            QuarantineReason.TOO_FEW_SLICES,
            f"{what} has {count} image(s); expected at least {limits.min_slices} slices to "
            "cover the head; fix: select the full axial series or wait until the PACS has "
            "received all images",
        )


def build_geometry(
    instances_sorted: Sequence[InstanceGeometry],
    locations_sorted: NDArray[np.float64],
    spacing_mm: float,
) -> SeriesGeometry:
    """SeriesGeometry of images already ordered and checked."""
    ref = instances_sorted[0]
    normal = slice_normal(ref.orientation)
    tilt, obliquity = plane_angles(ref.orientation)
    shear = 0.0
    if len(instances_sorted) > 1:
        stack = np.asarray(instances_sorted[-1].position) - np.asarray(ref.position)
        shear = angle_between_deg(stack, normal)
    o = ref.orientation
    return SeriesGeometry(
        row_cosine=(o[0], o[1], o[2]),
        column_cosine=(o[3], o[4], o[5]),
        normal=(float(normal[0]), float(normal[1]), float(normal[2])),
        pixel_spacing=ref.pixel_spacing,
        rows=ref.rows,
        columns=ref.columns,
        positions=tuple(inst.position for inst in instances_sorted),
        slice_locations=tuple(float(v) for v in locations_sorted),
        slice_spacing_mm=spacing_mm,
        tilt_deg=tilt,
        obliquity_deg=obliquity,
        shear_deg=shear,
    )


def _fmt(values: Sequence[float]) -> str:
    return "[" + ", ".join(f"{v:.4g}" for v in values) + "]"
