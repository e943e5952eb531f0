from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian, JPEG2000Lossless, RLELossless

from ichsilent.simulate import render
from ichsilent.simulate.dicom_writer import write_series
from ichsilent.simulate.fleet import profile_for
from ichsilent.simulate.options import SimulationOptions
from ichsilent.simulate.population import sample_study
from ichsilent.simulate.series_plan import series_info
from ichsilent.simulate.spec import SeriesKind

REQUIRED = (
    "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "PatientAge",
    "StudyInstanceUID", "StudyDate", "StudyTime", "AccessionNumber", "StudyDescription",
    "ReferringPhysicianName", "SeriesInstanceUID", "SeriesNumber", "SeriesDescription",
    "Modality", "BodyPartExamined", "ProtocolName", "Manufacturer", "ManufacturerModelName",
    "StationName", "InstitutionName", "SoftwareVersions", "ImagePositionPatient",
    "ImageOrientationPatient", "PixelSpacing", "SliceThickness", "GantryDetectorTilt",
    "KVP", "XRayTubeCurrent", "Exposure", "ConvolutionKernel", "RescaleIntercept",
    "RescaleSlope", "RescaleType", "WindowCenter", "WindowWidth", "ImageType",
    "InstanceNumber", "AcquisitionNumber", "SOPClassUID", "SOPInstanceUID",
    "CurrentPatientLocation", "FrameOfReferenceUID",
)  # fmt: skip


@pytest.fixture(scope="module")
def head_series() -> tuple[Any, Any, Any]:
    options = SimulationOptions(seed=5, matrix=64)
    spec = next(
        s
        for i in range(40)
        if (s := sample_study(np.random.default_rng([5, i, 0]), options, i)).body_part == "HEAD"
        and s.series[1].kind == SeriesKind.AXIAL_SOFT
    )
    plan = spec.series[1]
    return spec, plan, render.render_series(spec, plan, np.random.default_rng(0))


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, RLELossless, JPEG2000Lossless])
def test_series_round_trips_hu(tmp_path: Path, head_series: Any, syntax: Any) -> None:
    spec, plan, rendered = head_series
    profile = profile_for(spec.scanner)
    series_uid, paths = write_series(
        tmp_path, spec, plan, series_info(plan, 1), profile, rendered, seed=5, syntax=syntax
    )
    assert len(paths) == rendered.hu.shape[0]
    assert paths[0].relative_to(tmp_path).parts == (spec.study_uid, series_uid, "0001.dcm")
    for i, path in enumerate(paths):
        ds = pydicom.dcmread(path)
        assert ds.file_meta.TransferSyntaxUID == syntax
        for keyword in REQUIRED:
            assert keyword in ds, keyword
        hu = ds.pixel_array.astype(np.int32) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        expected = rendered.hu[i].astype(np.int32)
        if ds.PixelRepresentation == 0:
            expected = np.clip(expected, -1024, 3071)
        np.testing.assert_array_equal(hu, expected)
        assert ds.InstanceNumber == i + 1
        np.testing.assert_allclose(
            ds.ImagePositionPatient, rendered.image_position_mm[i], atol=1e-3
        )
    assert ds.ImageType == ["ORIGINAL", "PRIMARY", "AXIAL"]
    assert ds.RescaleIntercept == -1024
    assert ds.RescaleType == "HU"


def test_fixture_series_types(hospital_run: tuple[Path, dict[str, Any]]) -> None:
    out, _ = hospital_run
    truths = [json.loads(line) for line in (out / "truth.jsonl").read_text().splitlines()]
    seen: set[str] = set()
    for truth in truths:
        for series in truth["series"]:
            folder = out / "dicom" / truth["study_uid"] / series["series_uid"]
            files = sorted(folder.iterdir())
            assert len(files) == series["instances"]
            ds = pydicom.dcmread(files[0])
            seen.add(series["kind"])
            assert ds.StudyInstanceUID == truth["study_uid"]
            assert ds.AccessionNumber == truth["accession"]
            assert ds.BodyPartExamined == truth["body_part"]
            if series["kind"] == "localizer":
                assert list(ds.ImageType) == ["ORIGINAL", "PRIMARY", "LOCALIZER"]
            if series["kind"] == "reformat":
                assert ds.ImageType[0] == "DERIVED"
                assert ds.ImageType[1] == "SECONDARY"
            if series["kind"] == "contrast":
                assert ds.ContrastBolusAgent
            assert ds.pixel_array.shape == (ds.Rows, ds.Columns)  # decodes, compressed or not
    assert {"localizer", "axial_soft", "axial_bone"} <= seen
