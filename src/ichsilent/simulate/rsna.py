"""RSNA 2019 ICH-challenge style export of the axial soft-tissue series.

``rsna/stage_2_train/ID_<12 hex>.dcm``: one file per slice with the few tags the
challenge files kept (IDs instead of UIDs, no patient name), stored as most challenge
files were: uint16, BitsStored 12, RescaleIntercept -1024, implicit VR little endian.
``rsna/stage_2_train.csv``: ``ID,Label`` rows ``ID_<img>_<label>,<0|1>`` for the six labels.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from pydicom import config
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID, CTImageStorage, ImplicitVRLittleEndian

from ichsilent.domain import LABELS, Subtype
from ichsilent.simulate.dicom_writer import Rendered, to_stored
from ichsilent.simulate.identifiers import hex_id
from ichsilent.simulate.spec import StudySpec

TRAIN_DIR = "stage_2_train"
CSV_NAME = "stage_2_train.csv"
MIN_VOXELS = 4  # a slice is positive for a subtype when its mask has more voxels than this


def slice_labels(
    masks: Mapping[Subtype, np.ndarray], acute: Iterable[Subtype], n_slices: int
) -> np.ndarray:
    """(n_slices, 6) int array in LABELS order: any + the five subtypes."""
    out = np.zeros((n_slices, len(LABELS)), dtype=np.int8)
    acute_set = set(acute)
    for col, label in enumerate(LABELS[1:], start=1):
        subtype = Subtype(label.value)
        mask = masks.get(subtype)
        if mask is None or subtype not in acute_set:
            continue
        counts = np.asarray(mask, dtype=bool).reshape(n_slices, -1).sum(axis=1)
        out[:, col] = counts > MIN_VOXELS
    out[:, 0] = out[:, 1:].max(axis=1)
    return out


@contextmanager
def _rsna_ids() -> Iterator[None]:
    """RSNA files put ``ID_<hex>`` in UI elements; write them without validation warnings."""
    settings = config.settings
    previous = (settings.reading_validation_mode, settings.writing_validation_mode)
    settings.reading_validation_mode = settings.writing_validation_mode = config.IGNORE
    try:
        yield
    finally:
        settings.reading_validation_mode, settings.writing_validation_mode = previous


def write_rsna_series(
    root: Path, spec: StudySpec, rendered: Rendered, seed: int
) -> list[tuple[str, int]]:
    """Write one RSNA-style file per slice; return the CSV rows for them."""
    with _rsna_ids():
        return _write_rsna_series(root, spec, rendered, seed)


def _write_rsna_series(
    root: Path, spec: StudySpec, rendered: Rendered, seed: int
) -> list[tuple[str, int]]:
    folder = root / TRAIN_DIR
    folder.mkdir(parents=True, exist_ok=True)
    stored = to_stored(rendered.hu, 0)
    positions = np.asarray(rendered.image_position_mm, dtype=float)
    labels = slice_labels(dict(rendered.masks), spec.acute_subtypes, stored.shape[0])
    study_id = f"ID_{hex_id(seed, 10, 'rsna-study', spec.study_uid)}"
    series_id = f"ID_{hex_id(seed, 10, 'rsna-series', spec.study_uid)}"
    patient_id = f"ID_{hex_id(seed, 8, 'rsna-patient', spec.patient_id)}"
    ds = Dataset()
    ds.Modality = "CT"
    ds.PatientID = patient_id
    ds.StudyInstanceUID = study_id
    ds.SeriesInstanceUID = series_id
    ds.StudyID = ""
    ds.ImageOrientationPatient = [round(float(v), 6) for v in rendered.image_orientation]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = int(stored.shape[1]), int(stored.shape[2])
    ds.PixelSpacing = [round(float(v), 6) for v in rendered.pixel_spacing_mm]
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.WindowCenter, ds.WindowWidth = "40", "80"
    ds.RescaleIntercept, ds.RescaleSlope = "-1024", "1"
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.TransferSyntaxUID = ImplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.file_meta = meta
    rows: list[tuple[str, int]] = []
    for i in range(stored.shape[0]):
        image_id = f"ID_{hex_id(seed, 12, 'rsna-image', spec.study_uid, i)}"
        ds.SOPInstanceUID = image_id
        meta.MediaStorageSOPInstanceUID = UID(image_id)
        ds.ImagePositionPatient = [round(float(v), 4) for v in positions[i]]
        ds.PixelData = np.ascontiguousarray(stored[i]).tobytes()
        ds["PixelData"].VR = "OW"
        ds.save_as(folder / f"{image_id}.dcm", enforce_file_format=True)
        rows.extend(
            (f"{image_id}_{label.value}", int(labels[i, j])) for j, label in enumerate(LABELS)
        )
    return rows


def write_csv(root: Path, rows: Sequence[tuple[str, int]]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / CSV_NAME
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["ID", "Label"])
        writer.writerows(rows)
    return path


__all__ = ["CSV_NAME", "TRAIN_DIR", "slice_labels", "write_csv", "write_rsna_series"]
