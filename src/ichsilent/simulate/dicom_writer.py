"""CT Image Storage objects as a hospital PACS holds them (pydicom 3).

One header is built per series and only the per-slice tags change between files, so a
512 x 512 slice costs one vectorised conversion and one write. Layout:
``<root>/<StudyInstanceUID>/<SeriesInstanceUID>/<InstanceNumber:04d>.dcm``.

Where things are:
- patient class (HL7 PV1-2) is in CurrentPatientLocation (0038,0300) as ``EMERGENCY``,
  ``INPATIENT`` or ``OUTPATIENT`` (DICOM has no dedicated tag; this is the standard
  visit-module attribute closest to it);
- pixels: RescaleIntercept -1024, slope 1, RescaleType HU; PixelRepresentation 1 (int16)
  or 0 (uint16, BitsStored 12, values clipped to 0..4095) depending on the scanner;
- optional RLE Lossless / JPEG 2000 Lossless per scanner (``ScannerProfile``).
"""

from __future__ import annotations

import itertools
import logging
import struct
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    UID,
    CTImageStorage,
    ExplicitVRLittleEndian,
)

from ichsilent import __version__
from ichsilent.domain import PatientClass, Subtype
from ichsilent.simulate.fleet import ScannerProfile, site_by_code
from ichsilent.simulate.identifiers import make_uid
from ichsilent.simulate.series_plan import SeriesInfo
from ichsilent.simulate.spec import SeriesKind, SeriesPlan, StudySpec

log = logging.getLogger(__name__)

INTERCEPT = -1024.0
LOCATIONS = {
    PatientClass.EMERGENCY: "EMERGENCY",
    PatientClass.INPATIENT: "INPATIENT",
    PatientClass.OUTPATIENT: "OUTPATIENT",
}
WINDOWS: dict[SeriesKind, tuple[Sequence[float], Sequence[float]]] = {
    SeriesKind.LOCALIZER: ([40.0], [400.0]),
    SeriesKind.AXIAL_SOFT: ([40.0, 80.0], [80.0, 200.0]),
    SeriesKind.AXIAL_BONE: ([600.0], [2800.0]),
    SeriesKind.AXIAL_THIN: ([40.0], [80.0]),
    SeriesKind.REFORMAT: ([40.0], [80.0]),
    SeriesKind.CONTRAST: ([40.0], [120.0]),
}


class Rendered(Protocol):
    """What the DICOM writer needs from a rendered series (the renderer's RenderedSeries)."""

    @property
    def hu(self) -> np.ndarray: ...
    @property
    def image_position_mm(self) -> np.ndarray: ...
    @property
    def image_orientation(self) -> Sequence[float]: ...
    @property
    def pixel_spacing_mm(self) -> tuple[float, float]: ...
    @property
    def slice_thickness_mm(self) -> float: ...
    @property
    def masks(self) -> Mapping[Subtype, np.ndarray]: ...


def study_description(spec: StudySpec) -> str:
    if spec.body_part != "HEAD":
        return (
            "CT CHEST WO CONTRAST" if spec.body_part == "CHEST" else "CT ABDOMEN PELVIS W CONTRAST"
        )
    kinds = {p.kind for p in spec.series}
    if SeriesKind.AXIAL_SOFT not in kinds:
        return "CT HEAD W CONTRAST"
    if SeriesKind.CONTRAST in kinds:
        return "CT HEAD WO/W CONTRAST"
    return "CT HEAD WO CONTRAST"


def to_stored(hu: np.ndarray, pixel_representation: int) -> np.ndarray:
    """HU -> stored values for intercept -1024 (vectorised; clips to the storable range)."""
    shifted = hu.astype(np.int32) - int(INTERCEPT)
    if pixel_representation == 1:
        return np.clip(shifted, -32768, 32767).astype(np.int16)
    return np.clip(shifted, 0, 4095).astype(np.uint16)


def _da(when: datetime) -> str:
    return f"{when:%Y%m%d}"


def _tm(when: datetime) -> str:
    return f"{when:%H%M%S}"


def study_header(spec: StudySpec) -> Dataset:
    """Patient, study, equipment and visit attributes shared by every series of a study."""
    when = datetime.fromisoformat(spec.study_datetime)
    site = site_by_code(spec.site)
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = CTImageStorage
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = _da(when)
    ds.StudyTime = ds.SeriesTime = ds.AcquisitionTime = ds.ContentTime = _tm(when)
    ds.InstanceCreationDate, ds.InstanceCreationTime = _da(when), _tm(when)
    ds.AccessionNumber = spec.accession
    ds.Modality = "CT"
    ds.Manufacturer = spec.scanner.manufacturer
    ds.InstitutionName = site.institution
    ds.ReferringPhysicianName = spec.extra.get("referring_physician", "")
    ds.StationName = spec.scanner.station
    ds.StudyDescription = study_description(spec)
    ds.ManufacturerModelName = spec.scanner.model
    ds.PatientName = spec.patient_name
    ds.PatientID = spec.patient_id
    ds.IssuerOfPatientID = "SYNTHHOSP"
    ds.PatientBirthDate = spec.birth_date
    ds.PatientSex = spec.sex.value
    ds.PatientAge = f"{spec.age_years:03d}Y"
    ds.BodyPartExamined = spec.body_part
    ds.StudyInstanceUID = spec.study_uid
    ds.StudyID = spec.accession[-6:]
    ds.FrameOfReferenceUID = make_uid(0, "for", spec.study_uid)
    ds.PositionReferenceIndicator = ""
    ds.PatientPosition = "HFS" if spec.body_part == "HEAD" else "FFS"
    ds.CurrentPatientLocation = LOCATIONS[spec.patient_class]
    ds.KVP = spec.scanner.kvp
    ds.ExposureTime = 1000
    ds.XRayTubeCurrent = round(spec.scanner.mas)
    ds.Exposure = round(spec.scanner.mas)
    ds.CTDIvol = round(spec.scanner.mas * 0.17, 2)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.RescaleIntercept = INTERCEPT
    ds.RescaleSlope = 1.0
    ds.RescaleType = "HU"
    return ds


def series_header(
    study: Dataset,
    spec: StudySpec,
    plan: SeriesPlan,
    info: SeriesInfo,
    profile: ScannerProfile,
    series_uid: str,
    rendered: Rendered,
) -> Dataset:
    ds = Dataset()
    ds.update(study)
    software = profile.software_versions
    ds.SoftwareVersions = software
    ds.ImageType = list(info.image_type)
    ds.SeriesInstanceUID = series_uid
    ds.SeriesNumber = info.number
    ds.SeriesDescription = info.description
    ds.ProtocolName = info.protocol
    ds.AcquisitionNumber = 1 if plan.kind != SeriesKind.CONTRAST else 2
    ds.ConvolutionKernel = plan.kernel.split("\\") if "\\" in plan.kernel else plan.kernel
    ds.SliceThickness = round(float(rendered.slice_thickness_mm), 3)
    ds.GantryDetectorTilt = plan.gantry_tilt_deg
    ds.ImageOrientationPatient = [round(float(v), 6) for v in rendered.image_orientation]
    row, col = rendered.pixel_spacing_mm
    ds.PixelSpacing = [round(float(row), 6), round(float(col), 6)]
    ds.ReconstructionDiameter = round(float(col) * plan.columns, 2)
    ds.Rows, ds.Columns = int(rendered.hu.shape[1]), int(rendered.hu.shape[2])
    positions = np.asarray(rendered.image_position_mm, dtype=float)
    if len(positions) > 1 and plan.kind != SeriesKind.LOCALIZER:
        ds.SpacingBetweenSlices = round(float(np.linalg.norm(positions[1] - positions[0])), 4)
    center, width = WINDOWS[plan.kind]
    ds.WindowCenter = list(center) if len(center) > 1 else center[0]
    ds.WindowWidth = list(width) if len(width) > 1 else width[0]
    if plan.kind == SeriesKind.CONTRAST:
        ds.ContrastBolusAgent = "Omnipaque 350"
        ds.ContrastBolusRoute = "IV"
        ds.ContrastBolusVolume = 75
    if info.image_type[0] == "DERIVED":
        ds.DerivationDescription = "Multiplanar reformat from axial source"
    return ds


_SOP_INSTANCE_UID = 0x00080018
_INSTANCE_NUMBER = 0x00200013
_IMAGE_POSITION = 0x00200032
_SLICE_LOCATION = 0x00201041
_PIXEL_DATA = 0x7FE00010
_DYNAMIC = (_SOP_INSTANCE_UID, _INSTANCE_NUMBER, _IMAGE_POSITION, _SLICE_LOCATION, _PIXEL_DATA)


def _short(tag: int, vr: bytes, value: bytes, pad: bytes) -> bytes:
    """One explicit-VR little-endian element with a 2-byte length (UI, IS, DS, SH, UL)."""
    if len(value) % 2:
        value += pad
    return struct.pack("<HH", tag >> 16, tag & 0xFFFF) + vr + struct.pack("<H", len(value)) + value


def _long(tag: int, vr: bytes, value: bytes) -> bytes:
    """One explicit-VR little-endian element with a 4-byte length (OB, OW)."""
    return struct.pack("<HH2sHI", tag >> 16, tag & 0xFFFF, vr, 0, len(value)) + value


def _ds(values: Sequence[float]) -> bytes:
    return "\\".join(_ds_text(v) for v in values).encode()


def _ds_text(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _encode(ds: Dataset) -> bytes:
    buffer = DicomBytesIO()
    buffer.is_little_endian, buffer.is_implicit_VR = True, False
    write_dataset(buffer, ds)
    return buffer.getvalue()


class _FastSeriesEncoder:
    """Explicit VR little endian files from pre-encoded header segments.

    The static header is encoded by pydicom once per series; per slice only the SOP
    Instance UID, Instance Number, Image Position, Slice Location and Pixel Data are
    encoded (byte-identical to what pydicom writes for the same values).
    """

    def __init__(self, header: Dataset) -> None:
        static = Dataset()
        static.update({e.tag: e for e in header if int(e.tag) not in _DYNAMIC})
        bounds = (0, *_DYNAMIC, 0xFFFFFFFF)
        self._segments = [
            _encode(_between(static, low, high)) for low, high in itertools.pairwise(bounds)
        ]
        meta = header.file_meta
        self._class_uid = str(meta.MediaStorageSOPClassUID).encode()
        self._impl = str(meta.ImplementationClassUID).encode()
        self._impl_name = str(meta.get("ImplementationVersionName", "")).encode()

    def _file_meta(self, sop_uid: bytes) -> bytes:
        body = b"".join(
            (
                _long(0x00020001, b"OB", b"\x00\x01"),
                _short(0x00020002, b"UI", self._class_uid, b"\x00"),
                _short(0x00020003, b"UI", sop_uid, b"\x00"),
                _short(0x00020010, b"UI", str(ExplicitVRLittleEndian).encode(), b"\x00"),
                _short(0x00020012, b"UI", self._impl, b"\x00"),
                _short(0x00020013, b"SH", self._impl_name, b" ") if self._impl_name else b"",
            )
        )
        length = struct.pack("<HH2sHI", 0x0002, 0x0000, b"UL", 4, len(body))
        return b"\x00" * 128 + b"DICM" + length + body

    def encode(
        self, sop_uid: str, number: int, position: Sequence[float], location: float | None,
        pixels: bytes,
    ) -> bytes:  # fmt: skip
        uid = sop_uid.encode()
        seg = self._segments
        parts = [
            self._file_meta(uid),
            seg[0],
            _short(_SOP_INSTANCE_UID, b"UI", uid, b"\x00"),
            seg[1],
            _short(_INSTANCE_NUMBER, b"IS", str(number).encode(), b" "),
            seg[2],
            _short(_IMAGE_POSITION, b"DS", _ds(position), b" "),
            seg[3],
            _short(_SLICE_LOCATION, b"DS", _ds([location]), b" ") if location is not None else b"",
            seg[4],
            _long(_PIXEL_DATA, b"OW", pixels),
            seg[5],
        ]
        return b"".join(parts)


def _between(ds: Dataset, low: int, high: int) -> Dataset:
    out = Dataset()
    out.update({e.tag: e for e in ds if low < int(e.tag) < high})
    return out


def choose_syntax(spec: StudySpec, profile: ScannerProfile, compression: bool) -> UID:
    """The transfer syntax this study arrives in (a per-study draw vs the scanner's share)."""
    draw = float(spec.extra.get("compression_draw", "1.0"))
    syntax = profile.compressed_syntax
    if compression and syntax is not None and draw < profile.compressed_probability:
        return syntax
    return ExplicitVRLittleEndian


def write_series(
    root: Path,
    spec: StudySpec,
    plan: SeriesPlan,
    info: SeriesInfo,
    profile: ScannerProfile,
    rendered: Rendered,
    *,
    seed: int,
    syntax: UID = ExplicitVRLittleEndian,
    study: Dataset | None = None,
) -> tuple[str, list[Path]]:
    """Write every slice of one series; returns (SeriesInstanceUID, file paths)."""
    series_uid = make_uid(seed, "series", spec.study_uid, info.number)
    header = series_header(
        study if study is not None else study_header(spec),
        spec, plan, info, profile, series_uid, rendered,
    )  # fmt: skip
    pr = profile.pixel_representation
    header.PixelRepresentation = pr
    header.BitsStored = 16 if pr == 1 else 12
    header.HighBit = header.BitsStored - 1
    stored = to_stored(rendered.hu, pr)
    positions = np.asarray(rendered.image_position_mm, dtype=float)
    orientation = np.asarray(rendered.image_orientation, dtype=float)
    normal = np.cross(orientation[:3], orientation[3:])
    acquired = datetime.fromisoformat(spec.study_datetime)
    if plan.kind != SeriesKind.REFORMAT:
        acquired += timedelta(seconds=20 * info.number)
    folder = root / spec.study_uid / series_uid
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = f"ICHSILENT_{__version__}"[:16]
    header.file_meta = meta
    header.AcquisitionDateTime = f"{acquired:%Y%m%d%H%M%S}"
    header.ContentDate, header.ContentTime = _da(acquired), _tm(acquired)
    fast = _FastSeriesEncoder(header) if syntax == ExplicitVRLittleEndian else None
    for i in range(stored.shape[0]):
        number = i + 1
        position = [float(_ds_text(float(v))) for v in positions[i]]
        location = (
            float(_ds_text(float(np.dot(positions[i], normal))))
            if plan.kind != SeriesKind.LOCALIZER
            else None
        )
        path = folder / f"{number:04d}.dcm"
        paths.append(path)
        if fast is not None:
            sop = make_uid(seed, "sop", series_uid, number)
            data = np.ascontiguousarray(stored[i]).tobytes()
            path.write_bytes(fast.encode(sop, number, position, location, data))
            continue
        sop_uid = make_uid(seed, "sop", series_uid, number)
        header.SOPInstanceUID = sop_uid
        header.file_meta.MediaStorageSOPInstanceUID = UID(sop_uid)
        header.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        header.InstanceNumber = number
        header.ImagePositionPatient = position
        if location is not None:
            header.SliceLocation = location
        frame = np.ascontiguousarray(stored[i])
        header.compress(syntax, frame, encoding_plugin="pylibjpeg", generate_instance_uid=False)
        header.save_as(path, enforce_file_format=True)
        del header.PixelData  # compress() set it encapsulated; the next slice sets it again
    log.debug("wrote %d instances of series %s (%s)", len(paths), series_uid, syntax.name)
    return series_uid, paths


__all__ = [
    "Rendered",
    "choose_syntax",
    "series_header",
    "study_description",
    "study_header",
    "to_stored",
    "write_series",
]
