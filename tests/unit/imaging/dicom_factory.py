"""Synthetic head / chest phantoms written into CT Image Storage datasets (tests only).

Datasets are encoded to bytes and read back with pydicom, so tests see what a PACS
would send. Loaded by ``conftest.py`` and handed to tests as the ``factory`` fixture.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np
import pydicom
from numpy.typing import NDArray
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, CTImageStorage, ExplicitVRLittleEndian, generate_uid

AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def _grid(n: int, fov_mm: float) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    spacing = fov_mm / n
    c = (np.arange(n) - (n - 1) / 2) * spacing
    y, x = np.meshgrid(c, c, indexing="ij")
    return y, x, spacing


def head_phantom(
    n: int = 128,
    slices: int = 16,
    *,
    fov_mm: float = 240.0,
    thickness_mm: float = 5.0,
    bleed_hu: float | None = None,
    noise_hu: float = 0.0,
    seed: int = 0,
) -> tuple[NDArray[np.int16], tuple[float, float]]:
    """Ellipsoid head: scalp 40 HU, skull ring 1000 HU, brain 35 HU, ventricles 5 HU, air."""
    y, x, spacing = _grid(n, fov_mm)
    zc = (np.arange(slices) - (slices - 1) / 2) * thickness_mm
    c = max(slices * thickness_mm * 0.65, 40.0)
    vol = np.full((slices, n, n), -1000.0)
    for k, z in enumerate(zc):
        f = math.sqrt(max(0.05, 1 - (z / c) ** 2))
        a, b = 78 * f, 95 * f  # outer scalp semi-axes (x, y), mm
        r = (x / a) ** 2 + (y / b) ** 2

        def inside(margin: float, x=x, y=y, a=a, b=b) -> NDArray[np.bool_]:
            return (x / (a - margin)) ** 2 + (y / (b - margin)) ** 2 <= 1

        vol[k][r <= 1] = 40
        vol[k][inside(4)] = 1000  # skull from 4 mm to 11 mm
        vol[k][inside(11)] = 35
        vent = (x / (12 * f)) ** 2 + ((y + 5) / (28 * f)) ** 2 <= 1
        vol[k][vent] = 5
        if bleed_hu is not None:
            blob = ((x - 35 * f) ** 2 + (y - 10) ** 2) <= (18 * f) ** 2
            vol[k][blob & inside(11)] = bleed_hu
    if noise_hu:
        vol += np.random.default_rng(seed).normal(0, noise_hu, vol.shape)
    return np.clip(np.rint(vol), -1024, 3000).astype(np.int16), (spacing, spacing)


def chest_phantom(
    n: int = 128, slices: int = 16, *, fov_mm: float = 400.0
) -> tuple[NDArray[np.int16], tuple[float, float]]:
    """Trunk: soft tissue, two lungs, heart, spine and twelve ribs with gaps between them."""
    y, x, spacing = _grid(n, fov_mm)
    sl = np.full((n, n), -1000.0)
    sl[(x / 170) ** 2 + (y / 120) ** 2 <= 1] = 40
    for side in (-1, 1):
        sl[((x - side * 75) / 60) ** 2 + ((y + 5) / 85) ** 2 <= 1] = -850
    sl[((x - 10) / 45) ** 2 + ((y + 10) / 45) ** 2 <= 1] = 40
    sl[(x**2 + (y - 85) ** 2) <= 18**2] = 700
    for ang in np.linspace(0, 2 * np.pi, 12, endpoint=False):
        cx, cy = 150 * np.cos(ang), 105 * np.sin(ang)
        sl[((x - cx) ** 2 + (y - cy) ** 2) <= 8**2] = 900
    vol = np.repeat(sl[None], slices, axis=0)
    return np.rint(vol).astype(np.int16), (spacing, spacing)


def make_series(
    hu: NDArray[np.integer],
    pixel_spacing: tuple[float, float],
    *,
    thickness_mm: float = 5.0,
    pixel_representation: int = 1,
    slope: float = 1.0,
    intercept: float = -1024.0,
    bits_stored: int = 16,
    orientation: Sequence[float] = AXIAL,
    tilt_deg: float = 0.0,
    origin: Sequence[float] = (-120.0, -120.0, 0.0),
    series_uid: str | None = None,
    study_uid: str | None = None,
    transfer_syntax: UID = ExplicitVRLittleEndian,
    roundtrip: bool = True,
    **attributes: object,
) -> list[Dataset]:
    """One CT Image Storage dataset per slice (z), positions along the stack direction.

    With ``tilt_deg`` the column cosine is (0, cos t, sin t) and the table still moves along
    z, as on a tilted gantry. Stored value = (hu - intercept) / slope.
    """
    series_uid = series_uid or generate_uid()
    study_uid = study_uid or generate_uid()
    iop = list(orientation)
    if tilt_deg:
        t = math.radians(tilt_deg)
        iop = [1.0, 0.0, 0.0, 0.0, math.cos(t), math.sin(t)]
    normal = np.cross(iop[:3], iop[3:])
    step = np.array([0.0, 0.0, thickness_mm]) if tilt_deg else normal * thickness_mm
    dtype = np.int16 if pixel_representation else np.uint16
    out = []
    for k in range(hu.shape[0]):
        stored = np.rint((hu[k].astype(np.float64) - intercept) / slope).astype(dtype)
        pos = np.asarray(origin, dtype=float) + k * step
        ds = _base_dataset(study_uid, series_uid, k)
        ds.ImagePositionPatient = [round(float(v), 4) for v in pos]
        ds.ImageOrientationPatient = [round(float(v), 6) for v in iop]
        ds.PixelSpacing = [round(pixel_spacing[0], 6), round(pixel_spacing[1], 6)]
        ds.SliceThickness = thickness_mm
        ds.SliceLocation = round(float(pos[2]), 4)
        ds.Rows, ds.Columns = stored.shape
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, bits_stored, bits_stored - 1
        ds.PixelRepresentation = pixel_representation
        ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
        ds.RescaleType = "HU"
        ds.PixelData = stored.tobytes()
        if tilt_deg:
            ds.GantryDetectorTilt = tilt_deg
        for key, value in attributes.items():
            setattr(ds, key, value)
        if transfer_syntax != ExplicitVRLittleEndian:
            ds.compress(transfer_syntax, stored)
        out.append(_roundtrip(ds) if roundtrip else ds)
    return out


def _base_dataset(study_uid: str, series_uid: str, k: int) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = CTImageStorage
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, series_uid
    ds.Modality = "CT"
    ds.Manufacturer, ds.ManufacturerModelName = "SIEMENS", "SOMATOM Force"
    ds.InstitutionName = "General Hospital"
    ds.ConvolutionKernel = ["Hr38", "3"]
    ds.KVP, ds.Exposure, ds.XRayTubeCurrent = 120, 280, 250
    ds.StudyDate, ds.StudyTime = "20250301", "101530.123"
    ds.PatientAge, ds.PatientSex = "067Y", "F"
    ds.BodyPartExamined = "HEAD"
    ds.SeriesDescription = "HEAD 5mm Hr38 AXIAL"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.InstanceNumber = k + 1
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    return ds


def _roundtrip(ds: Dataset) -> Dataset:
    buf = io.BytesIO()
    pydicom.dcmwrite(buf, ds, enforce_file_format=True)
    buf.seek(0)
    return pydicom.dcmread(buf)
