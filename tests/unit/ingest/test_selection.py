"""Series selection: ranking, rejection reasons, study quarantine reasons, head filter."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
from pydicom.dataset import Dataset

from ichsilent.domain import QuarantineReason
from ichsilent.ingest.metadata import SeriesCandidate, StudyAttributes
from ichsilent.ingest.selection import (
    SeriesRejection,
    evaluate_series,
    is_head_study,
    select_series,
)
from ichsilent.ingest.selection_rules import SelectionRules, load_selection_rules

CONFIG = Path(__file__).resolve().parents[3] / "config" / "series_selection.yaml"
AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


@pytest.fixture(scope="module")
def rules() -> SelectionRules:
    return load_selection_rules(CONFIG)


def cand(number: int = 2, **kwargs: object) -> SeriesCandidate:
    base = SeriesCandidate(
        series_uid=f"1.2.826.0.1.{number}",
        study_uid="1.2.826.0.1",
        series_number=number,
        modality="CT",
        description="HEAD 5mm H30s AXIAL",
        body_part="HEAD",
        image_type=("ORIGINAL", "PRIMARY", "AXIAL"),
        kernel="H30s",
        slice_thickness_mm=5.0,
        orientation=AXIAL,
        instance_count=30,
        manufacturer="SIEMENS",
    )
    return dataclasses.replace(base, **kwargs)  # type: ignore[arg-type]


def tilted(deg: float) -> tuple[float, ...]:
    t = math.radians(deg)
    return (1.0, 0.0, 0.0, 0.0, math.cos(t), math.sin(t))


LOCALIZER = cand(
    1, description="Topogram 0.6 T20s", image_type=("ORIGINAL", "PRIMARY", "LOCALIZER")
)
BONE = cand(3, description="HEAD BONE 5mm H70h", kernel="H70h")
THIN = cand(4, description="HEAD THIN 1.25mm", slice_thickness_mm=1.25, instance_count=120)
REFORMAT = cand(
    5, description="COR 3mm MPR", image_type=("DERIVED", "SECONDARY", "REFORMATTED"),
    orientation=(1.0, 0.0, 0.0, 0.0, 0.0, -1.0), slice_thickness_mm=3.0,
)  # fmt: skip
CONTRAST = cand(6, description="HEAD POST CONTRAST 5mm")


def test_five_mm_soft_tissue_wins(rules: SelectionRules) -> None:
    soft = cand(2)
    result = select_series([LOCALIZER, BONE, THIN, REFORMAT, CONTRAST, soft], rules)
    assert result.chosen == soft
    assert result.quarantine is None
    assert result.rejections == {
        LOCALIZER.series_uid: SeriesRejection.LOCALIZER,
        BONE.series_uid: SeriesRejection.BONE_KERNEL,
        REFORMAT.series_uid: SeriesRejection.DERIVED,
        CONTRAST.series_uid: SeriesRejection.CONTRAST,
    }
    eligible = [v for v in result.verdicts if v.eligible]
    assert [v.candidate for v in eligible] == [soft, THIN]
    assert eligible[0].score is not None
    assert eligible[1].score is not None
    assert eligible[0].score > eligible[1].score


def test_thin_is_chosen_when_it_is_the_only_soft_series(rules: SelectionRules) -> None:
    result = select_series([LOCALIZER, BONE, THIN], rules)
    assert result.chosen == THIN


def test_soft_kernel_preferred_over_unknown(rules: SelectionRules) -> None:
    unknown = cand(7, kernel="XYZ99")
    soft = cand(8)
    assert select_series([unknown, soft], rules).chosen == soft
    assert select_series([unknown], rules).chosen == unknown  # unknown: allow


def test_more_coverage_preferred(rules: SelectionRules) -> None:
    short = cand(2, instance_count=12)
    full = cand(9, instance_count=32)
    assert select_series([short, full], rules).chosen == full


def test_reasons_carry_tag_and_value(rules: SelectionRules) -> None:
    verdict = evaluate_series(BONE, rules)
    assert verdict.reason is SeriesRejection.BONE_KERNEL
    assert "ConvolutionKernel (0018,1210) = 'H70h'" in verdict.details[0]
    assert BONE.series_uid in verdict.details[0]
    loc = evaluate_series(LOCALIZER, rules)
    assert loc.reason is SeriesRejection.LOCALIZER
    assert "ImageType (0008,0008)" in loc.details[0]
    ref = evaluate_series(REFORMAT, rules)
    assert ref.rejections[0] is SeriesRejection.DERIVED
    assert SeriesRejection.NOT_AXIAL in ref.rejections  # coronal plane too


def test_contrast_only_study(rules: SelectionRules) -> None:
    result = select_series([LOCALIZER, CONTRAST], rules)
    assert result.chosen is None
    assert result.quarantine is QuarantineReason.CONTRAST_ONLY
    assert "SeriesDescription (0008,103E)" in result.detail
    assert CONTRAST.series_uid in result.detail


def test_bone_only_study(rules: SelectionRules) -> None:
    result = select_series([LOCALIZER, BONE], rules)
    assert result.quarantine is QuarantineReason.NO_ELIGIBLE_SERIES
    assert "ConvolutionKernel (0018,1210)" in result.detail


def test_mr_study_is_not_ct(rules: SelectionRules) -> None:
    mr = cand(2, modality="MR", kernel="", slice_thickness_mm=5.0)
    result = select_series([mr], rules)
    assert result.quarantine is QuarantineReason.NOT_CT
    assert "Modality (0008,0060) = 'MR'" in result.detail
    assert select_series([], rules).quarantine is QuarantineReason.NOT_CT


def test_too_few_instances(rules: SelectionRules) -> None:
    result = select_series([LOCALIZER, cand(2, instance_count=3)], rules)
    assert result.quarantine is QuarantineReason.TOO_FEW_SLICES
    assert "NumberOfSeriesRelatedInstances (0020,1209) = 3" in result.detail


@pytest.mark.parametrize(
    ("orientation", "expected"),
    [
        (tilted(20.0), None),
        (tilted(-25.0), None),
        (tilted(35.0), SeriesRejection.TILT_TOO_LARGE),
        ((1.0, 0.0, 0.0, 0.0, 0.0, -1.0), SeriesRejection.NOT_AXIAL),  # coronal
        ((0.0, 1.0, 0.0, 0.0, 0.0, -1.0), SeriesRejection.NOT_AXIAL),  # sagittal
        # rotated 15 degrees about y: no gantry produces that
        ((math.cos(0.2618), 0.0, -math.sin(0.2618), 0.0, 1.0, 0.0), SeriesRejection.NOT_AXIAL),
        ((math.cos(0.1), 0.0, -math.sin(0.1), 0.0, 1.0, 0.0), None),  # 5.7 degrees: tolerated
        (None, SeriesRejection.MISSING_ATTRIBUTE),
    ],
)
def test_orientation(rules: SelectionRules, orientation, expected) -> None:
    assert evaluate_series(cand(2, orientation=orientation), rules).reason is expected


@pytest.mark.parametrize(
    ("thickness", "expected"),
    [(0.3, SeriesRejection.TOO_THIN), (8.0, SeriesRejection.TOO_THICK), (0.625, None),
     (None, SeriesRejection.MISSING_ATTRIBUTE)],
)  # fmt: skip
def test_thickness(rules: SelectionRules, thickness, expected) -> None:
    assert evaluate_series(cand(2, slice_thickness_mm=thickness), rules).reason is expected


@pytest.mark.parametrize(
    "kernel",
    ["H30s", "H31s", "Hr38\\3", "Hr40", "J40s", "STANDARD", "SOFT", "FC21", "FC26", "FC64",
     "UB", "UC", "H30s_SHARP", "B"],
)  # fmt: skip
def test_soft_tissue_kernels(rules: SelectionRules, kernel: str) -> None:
    verdict = evaluate_series(cand(2, kernel=kernel), rules)
    assert verdict.eligible
    assert verdict.soft_tissue_kernel


@pytest.mark.parametrize(
    "kernel",
    ["H70h", "H60s", "Hr68\\3", "J70h", "B70f", "Bl57", "BONE", "BONEPLUS", "LUNG", "FC30",
     "FC35", "FC81", "FC52", "YC", "YD", "D", "E", "L"],
)  # fmt: skip
def test_bone_and_lung_kernels(rules: SelectionRules, kernel: str) -> None:
    assert evaluate_series(cand(2, kernel=kernel), rules).reason is SeriesRejection.BONE_KERNEL


@pytest.mark.parametrize(
    ("description", "agent", "contrast"),
    [
        ("HEAD POST CONTRAST 5mm", "", True),
        ("CTA HEAD", "", True),
        ("HEAD C+ 5mm", "", True),
        ("PERFUSION 5mm", "", True),
        ("CT ANGIO COW", "", True),
        ("HEAD 5mm", "Omnipaque 350", True),
        ("HEAD WO CONTRAST 5mm", "", False),
        ("CT HEAD W/O CONTRAST", "", False),
        ("HEAD NON-CONTRAST", "", False),
        ("POSTERIOR FOSSA 3mm", "", False),
        ("HEAD 5mm", "NONE", False),
        ("HEAD 5mm", "No", False),
    ],
)
def test_contrast(rules: SelectionRules, description: str, agent: str, contrast: bool) -> None:
    verdict = evaluate_series(cand(2, description=description, contrast_agent=agent), rules)
    assert (verdict.reason is SeriesRejection.CONTRAST) is contrast, verdict.details


def _dataset() -> Dataset:
    ds = Dataset()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = "1.2.3", "1.2.3.4"
    ds.SeriesNumber = 2
    ds.Modality = "CT"
    ds.SeriesDescription = "HEAD 5mm Hr38 AXIAL"
    ds.BodyPartExamined = "HEAD"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.ConvolutionKernel = ["Hr38", "3"]
    ds.SliceThickness = "5.0"
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.NumberOfSeriesRelatedInstances = 32
    ds.Manufacturer = "SIEMENS"
    return ds


def test_dataset_and_dicom_json_give_the_same_candidate(rules: SelectionRules) -> None:
    ds = _dataset()
    from_ds = SeriesCandidate.from_dataset(ds)
    from_json = SeriesCandidate.from_dicom_json(ds.to_json_dict())
    assert from_ds == from_json
    assert from_ds.kernel == "Hr38\\3"
    assert from_ds.instance_count == 32
    assert from_ds.image_type == ("ORIGINAL", "PRIMARY", "AXIAL")
    assert select_series([from_json], rules).chosen == from_json
    assert SeriesCandidate.from_dataset(ds, instance_count=5).instance_count == 5


def test_dicom_json_as_qido_sends_it() -> None:
    qido = {
        "0020000E": {"vr": "UI", "Value": ["1.2.3.4"]},
        "00080060": {"vr": "CS", "Value": ["CT"]},
        "0008103E": {"vr": "LO", "Value": ["HEAD 5mm"]},
        "00200011": {"vr": "IS", "Value": [3]},
        "00201209": {"vr": "IS", "Value": ["28"]},
        "00180050": {"vr": "DS", "Value": [5]},
        "00180010": {"vr": "LO"},
    }
    c = SeriesCandidate.from_dicom_json(qido)
    assert (c.series_uid, c.modality, c.series_number, c.instance_count) == ("1.2.3.4", "CT", 3, 28)
    assert c.slice_thickness_mm == 5.0
    assert c.contrast_agent == ""
    assert c.orientation is None


def test_is_head_study(rules: SelectionRules) -> None:
    ok, why = is_head_study(StudyAttributes(description="CT HEAD WO", modalities=("CT",)), rules)
    assert ok
    assert "StudyDescription (0008,1030)" in why
    ok, why = is_head_study(StudyAttributes(description="CT", modalities=("CT",)), rules, [cand(2)])
    assert ok
    assert "BodyPartExamined" in why
    chest = StudyAttributes(description="CT CHEST ABDOMEN", modalities=("CT",), body_part="CHEST")
    ok, why = is_head_study(chest, rules, [cand(2, body_part="CHEST", description="Body 5mm")])
    assert not ok
    assert "CHEST" in why
    ok, why = is_head_study(StudyAttributes(description="MR BRAIN", modalities=("MR",)), rules)
    assert not ok
    assert "ModalitiesInStudy (0008,0061)" in why


def test_is_head_study_from_dicom_json_and_dataset(rules: SelectionRules) -> None:
    qido = {
        "0020000D": {"vr": "UI", "Value": ["1.2.3"]},
        "00081030": {"vr": "LO", "Value": ["CT CRANIUM NATIVE"]},
        "00080061": {"vr": "CS", "Value": ["CT", "SR"]},
    }
    assert is_head_study(qido, rules)[0]
    ds = Dataset()
    ds.StudyDescription = "BRAIN ROUTINE"
    ds.ModalitiesInStudy = ["CT"]
    assert is_head_study(ds, rules)[0]
