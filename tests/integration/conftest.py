"""Fixtures for integration tests against real local services (here: Orthanc)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    CTImageStorage,
    ExplicitVRLittleEndian,
    generate_uid,
)

from ichsilent.pacs import orthanc as local_orthanc

MakeInstances = Callable[..., list[Path]]


def require_orthanc() -> None:
    """Skip when the Debian orthanc package is missing; fail instead on CI."""
    if local_orthanc.ORTHANC_BINARY.exists() and local_orthanc.DICOMWEB_PLUGIN.exists():
        return
    message = f"Orthanc not installed; fix: {local_orthanc.INSTALL_FIX}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def orthanc_installed() -> None:
    """For tests that start their own Orthanc."""
    require_orthanc()


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[local_orthanc.OrthancHandle]:
    """One local Orthanc for the whole session (state under a temporary directory)."""
    require_orthanc()
    directory = tmp_path_factory.mktemp("orthanc")
    handle = local_orthanc.start(directory)
    try:
        yield handle
    finally:
        local_orthanc.stop(directory)


def ct_slice(
    study_uid: str,
    series_uid: str,
    index: int,
    *,
    patient_id: str,
    accession: str,
    size: int = 64,
    rng: np.random.Generator | None = None,
) -> Dataset:
    """One axial non-contrast head CT slice with valid file meta (small, synthetic)."""
    rng = rng or np.random.default_rng(index)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.PatientID = patient_id
    ds.PatientName = f"SIM^{patient_id}"
    ds.AccessionNumber = accession
    ds.StudyDate = "20250101"
    ds.StudyTime = "120000"
    ds.Modality = "CT"
    ds.StudyDescription = "CT HEAD WO CONTRAST"
    ds.SeriesDescription = "AXIAL 5MM"
    ds.SeriesNumber = 2
    ds.InstanceNumber = index + 1
    ds.ImagePositionPatient = [-0.0, -0.0, 5.0 * index]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [0.5, 0.5]
    ds.SliceThickness = 5.0
    ds.Rows = ds.Columns = size
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    ds.RescaleIntercept = -1024
    ds.RescaleSlope = 1
    ds.WindowCenter = 40
    ds.WindowWidth = 80
    pixels = rng.integers(0, 1100, size=(size, size), dtype=np.int16)
    ds.PixelData = pixels.tobytes()
    return ds


@pytest.fixture
def make_ct_instances() -> MakeInstances:
    """Factory writing ``studies`` × ``slices`` CT files under a folder; returns their paths."""

    def make(folder: Path, studies: int = 2, slices: int = 4, size: int = 64) -> list[Path]:
        paths: list[Path] = []
        rng = np.random.default_rng(0)
        for s in range(studies):
            study_uid, series_uid = generate_uid(), generate_uid()
            target = folder / study_uid
            target.mkdir(parents=True, exist_ok=True)
            for i in range(slices):
                ds = ct_slice(
                    study_uid,
                    series_uid,
                    i,
                    patient_id=f"P{s:04d}",
                    accession=f"A{s:06d}",
                    size=size,
                    rng=rng,
                )
                path = target / f"{i:04d}.dcm"
                ds.save_as(path, enforce_file_format=True)
                paths.append(path)
        return paths

    return make
