"""Header facts of a decoded series that drift monitoring, scoring and reports need.

Nothing identifying is kept: no names, no patient IDs, no accession numbers; only coarse
demographics (age in years, sex) and acquisition parameters.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ichsilent.domain import PatientClass, Sex


class DecodeFlag(enum.StrEnum):
    """Things decode noticed and corrected or defaulted (kept with the study, not errors)."""

    RESCALE_MISSING = "rescale_missing"  # RescaleSlope/Intercept absent: 1/0 assumed
    PIXEL_PADDING = "pixel_padding"  # PixelPaddingValue pixels set to air (-1024 HU)
    DUPLICATES_DROPPED = "duplicates_dropped"  # same SOPInstanceUID or identical pixels
    RSNA_12BIT_WRAP_SUSPECTED = "rsna_12bit_wrap_suspected"  # see decode.fix_12bit_wraparound
    RSNA_12BIT_WRAP_CORRECTED = "rsna_12bit_wrap_corrected"
    CLIPPED_HIGH = "clipped_high"  # HU above int16 range clipped
    VARYING_RESCALE = "varying_rescale"  # slope/intercept differ between images


@dataclass(frozen=True, slots=True)
class SeriesMetadata:
    """Acquisition and coarse patient facts of one series (first image in slice order)."""

    study_instance_uid: str
    series_instance_uid: str
    modality: str
    manufacturer: str
    model: str
    software_versions: str
    institution: str
    station: str
    kernel: str
    kvp: float | None
    exposure_mas: float | None
    tube_current_ma: float | None
    slice_thickness_mm: float | None
    pixel_spacing_mm: tuple[float, float]
    rows: int
    columns: int
    slice_count: int
    slice_spacing_mm: float
    tilt_deg: float  # from ImageOrientationPatient
    gantry_detector_tilt_deg: float | None  # (0018,1120) as written by the scanner
    study_date: dt.date | None
    study_time: dt.time | None
    patient_age_years: float | None
    patient_sex: Sex
    patient_class: PatientClass | None
    body_part: str
    series_description: str
    contrast_agent: str
    transfer_syntaxes: tuple[str, ...]
    pixel_representation: int
    bits_stored: int
    rescale_slope: float
    rescale_intercept: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (dates as ISO strings, enums as their values)."""
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, dt.date | dt.time):
                out[key] = value.isoformat()
            elif isinstance(value, enum.Enum):
                out[key] = value.value
            elif isinstance(value, tuple):
                out[key] = list(value)
        return out


def text(ds: Any, keyword: str) -> str:
    """Attribute as one string; multi-valued attributes joined with a backslash."""
    value = getattr(ds, keyword, None)
    if value is None:
        return ""
    if not isinstance(value, str | bytes) and hasattr(value, "__iter__"):
        return "\\".join(str(v) for v in value).strip()
    return str(value).strip()


def number(ds: Any, keyword: str) -> float | None:
    """Attribute as a finite float, or None when absent or not a number."""
    value = getattr(ds, keyword, None)
    if value is None or value == "":
        return None
    if not isinstance(value, str | bytes) and hasattr(value, "__iter__"):
        value = next(iter(value), None)
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def parse_age(value: str) -> float | None:
    """DICOM AgeString ("045Y", "006M", "003W", "010D") in years."""
    value = value.strip().upper()
    if len(value) < 2 or not value[:-1].isdigit():
        return None
    per_year = {"Y": 1.0, "M": 12.0, "W": 52.1775, "D": 365.25}.get(value[-1])
    return None if per_year is None else round(int(value[:-1]) / per_year, 2)


def parse_date(value: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(value.strip()[:8], "%Y%m%d").date()
    except ValueError:
        return None


def parse_time(value: str) -> dt.time | None:
    digits = value.strip().split(".")[0]
    for fmt in ("%H%M%S", "%H%M", "%H"):
        try:
            return dt.datetime.strptime(digits, fmt).time()
        except ValueError:
            continue
    return None


def parse_sex(value: str) -> Sex:
    try:
        return Sex(value.strip().upper())
    except ValueError:
        return Sex.UNKNOWN


def exposure_mas(ds: Any) -> float | None:
    """Exposure (0018,1152) in mAs, else XRayTubeCurrent x ExposureTime / 1000."""
    mas = number(ds, "Exposure")
    if mas is not None:
        return mas
    current, time_ms = number(ds, "XRayTubeCurrent"), number(ds, "ExposureTime")
    if current is None or time_ms is None:
        return None
    return current * time_ms / 1000.0


def series_metadata(
    datasets: Sequence[Any],
    *,
    pixel_spacing: tuple[float, float],
    rows: int,
    columns: int,
    slice_spacing_mm: float,
    tilt_deg: float,
    patient_class: PatientClass | None,
) -> SeriesMetadata:
    """SeriesMetadata from the ordered datasets of one decoded series."""
    ds = datasets[0]
    syntaxes = sorted(
        {str(getattr(getattr(d, "file_meta", None), "TransferSyntaxUID", "")) for d in datasets}
    )
    slope = number(ds, "RescaleSlope")
    intercept = number(ds, "RescaleIntercept")
    return SeriesMetadata(
        study_instance_uid=text(ds, "StudyInstanceUID"),
        series_instance_uid=text(ds, "SeriesInstanceUID"),
        modality=text(ds, "Modality"),
        manufacturer=text(ds, "Manufacturer"),
        model=text(ds, "ManufacturerModelName"),
        software_versions=text(ds, "SoftwareVersions"),
        institution=text(ds, "InstitutionName"),
        station=text(ds, "StationName"),
        kernel=text(ds, "ConvolutionKernel"),
        kvp=number(ds, "KVP"),
        exposure_mas=exposure_mas(ds),
        tube_current_ma=number(ds, "XRayTubeCurrent"),
        slice_thickness_mm=number(ds, "SliceThickness"),
        pixel_spacing_mm=pixel_spacing,
        rows=rows,
        columns=columns,
        slice_count=len(datasets),
        slice_spacing_mm=slice_spacing_mm,
        tilt_deg=tilt_deg,
        gantry_detector_tilt_deg=number(ds, "GantryDetectorTilt"),
        study_date=parse_date(text(ds, "StudyDate")),
        study_time=parse_time(text(ds, "StudyTime")),
        patient_age_years=parse_age(text(ds, "PatientAge")),
        patient_sex=parse_sex(text(ds, "PatientSex")),
        patient_class=patient_class,
        body_part=text(ds, "BodyPartExamined").upper(),
        series_description=text(ds, "SeriesDescription"),
        contrast_agent=text(ds, "ContrastBolusAgent"),
        transfer_syntaxes=tuple(s for s in syntaxes if s),
        pixel_representation=int(number(ds, "PixelRepresentation") or 0),
        bits_stored=int(number(ds, "BitsStored") or 16),
        rescale_slope=1.0 if slope is None else slope,
        rescale_intercept=0.0 if intercept is None else intercept,
    )
