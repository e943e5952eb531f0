"""Series and study attributes from a pydicom Dataset or a DICOM JSON object.

DICOM JSON (PS3.18 F.2) is what QIDO-RS and WADO-RS metadata return::

    {"0020000E": {"vr": "UI", "Value": ["1.2.3"]}, "00080060": {"vr": "CS", "Value": ["CT"]}}

Both sources are read through one small accessor so that selection rules see the same
:class:`SeriesCandidate` whichever way the attributes arrived.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydicom.datadict import tag_for_keyword


class _Attributes:
    """Keyword access to a Dataset or a DICOM JSON dict; values as lists of plain Python."""

    def __init__(self, source: Any) -> None:
        self._json: Mapping[str, Any] | None = source if isinstance(source, Mapping) else None
        self._ds = None if isinstance(source, Mapping) else source

    def values(self, keyword: str) -> list[Any]:
        if self._json is not None:
            tag = tag_for_keyword(keyword)
            if tag is None:
                return []
            element = self._json.get(f"{tag:08X}") or self._json.get(f"{tag:08x}")
            if not isinstance(element, Mapping):
                return []
            out = []
            for v in element.get("Value") or []:
                out.append(v.get("Alphabetic", "") if isinstance(v, Mapping) else v)
            return out
        value = getattr(self._ds, keyword, None)
        if value is None or value == "":
            return []
        if not isinstance(value, str | bytes) and hasattr(value, "__iter__"):
            return list(value)
        return [value]

    def text(self, keyword: str) -> str:
        return "\\".join(str(v).strip() for v in self.values(keyword) if v is not None).strip()

    def texts(self, keyword: str) -> tuple[str, ...]:
        return tuple(str(v).strip().upper() for v in self.values(keyword) if str(v).strip())

    def floats(self, keyword: str) -> tuple[float, ...] | None:
        try:
            out = tuple(float(v) for v in self.values(keyword))
        except (TypeError, ValueError):
            return None
        if not out or not all(math.isfinite(v) for v in out):
            return None
        return out

    def number(self, keyword: str) -> float | None:
        values = self.floats(keyword)
        return values[0] if values else None


@dataclass(frozen=True, slots=True)
class SeriesCandidate:
    """What series selection needs to know about one series (from QIDO or its metadata)."""

    series_uid: str
    study_uid: str = ""
    series_number: int | None = None
    modality: str = ""
    description: str = ""
    protocol_name: str = ""
    body_part: str = ""
    image_type: tuple[str, ...] = ()
    kernel: str = ""
    slice_thickness_mm: float | None = None
    orientation: tuple[float, ...] | None = None  # ImageOrientationPatient, 6 numbers
    contrast_agent: str = ""
    instance_count: int | None = None
    manufacturer: str = ""

    @property
    def label(self) -> str:
        """How messages name the series."""
        number = "?" if self.series_number is None else str(self.series_number)
        return f"series #{number} '{self.description}' (SeriesInstanceUID {self.series_uid})"

    @classmethod
    def from_dataset(cls, ds: Any, instance_count: int | None = None) -> SeriesCandidate:
        """From a pydicom Dataset (one image or a series-level C-FIND/QIDO response)."""
        return cls._build(_Attributes(ds), instance_count)

    @classmethod
    def from_dicom_json(
        cls, obj: Mapping[str, Any], instance_count: int | None = None
    ) -> SeriesCandidate:
        """From a DICOM JSON object (QIDO-RS series result or WADO-RS instance metadata)."""
        return cls._build(_Attributes(obj), instance_count)

    @classmethod
    def _build(cls, a: _Attributes, instance_count: int | None) -> SeriesCandidate:
        if instance_count is None:
            count = a.number("NumberOfSeriesRelatedInstances")
            instance_count = None if count is None else int(count)
        number = a.number("SeriesNumber")
        iop = a.floats("ImageOrientationPatient")
        return cls(
            series_uid=a.text("SeriesInstanceUID"),
            study_uid=a.text("StudyInstanceUID"),
            series_number=None if number is None else int(number),
            modality=a.text("Modality").upper(),
            description=a.text("SeriesDescription"),
            protocol_name=a.text("ProtocolName"),
            body_part=a.text("BodyPartExamined").upper(),
            image_type=a.texts("ImageType"),
            kernel=a.text("ConvolutionKernel"),
            slice_thickness_mm=a.number("SliceThickness"),
            orientation=iop if iop is not None and len(iop) == 6 else None,
            contrast_agent=a.text("ContrastBolusAgent"),
            instance_count=instance_count,
            manufacturer=a.text("Manufacturer"),
        )


@dataclass(frozen=True, slots=True)
class StudyAttributes:
    """Study-level facts used by the head-study filter (from QIDO-RS studies)."""

    study_uid: str = ""
    description: str = ""
    modalities: tuple[str, ...] = ()
    body_part: str = ""

    @classmethod
    def from_dataset(cls, ds: Any) -> StudyAttributes:
        return cls._build(_Attributes(ds))

    @classmethod
    def from_dicom_json(cls, obj: Mapping[str, Any]) -> StudyAttributes:
        return cls._build(_Attributes(obj))

    @classmethod
    def _build(cls, a: _Attributes) -> StudyAttributes:
        modalities = a.texts("ModalitiesInStudy") or a.texts("Modality")
        return cls(
            study_uid=a.text("StudyInstanceUID"),
            description=a.text("StudyDescription"),
            modalities=modalities,
            body_part=a.text("BodyPartExamined").upper(),
        )
