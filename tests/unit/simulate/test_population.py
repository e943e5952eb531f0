from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest

from ichsilent.domain import PatientClass, Subtype
from ichsilent.simulate.hospital import truth_record
from ichsilent.simulate.options import SimulationOptions
from ichsilent.simulate.population import sample_study
from ichsilent.simulate.spec import BleedStage, SeriesKind


def _specs(n: int, **kwargs: object) -> list:
    options = SimulationOptions(seed=3, studies_per_day=50, **kwargs)  # type: ignore[arg-type]
    return [sample_study(np.random.default_rng([3, i, 0]), options, i) for i in range(n)]


@pytest.fixture(scope="module")
def specs() -> list:
    return _specs(800)


def test_prevalence_override_is_met() -> None:
    heads = [s for s in _specs(1500, prevalence=0.2) if s.body_part == "HEAD"]
    rate = np.mean([bool(s.acute_subtypes) for s in heads])
    # Within 3 standard errors of P: --prevalence is the rate a site asked for, not "about".
    assert abs(rate - 0.2) <= 3 * np.sqrt(0.2 * 0.8 / len(heads))


def test_prevalence_by_setting(specs: list) -> None:
    heads = [s for s in specs if s.body_part == "HEAD"]
    by_class = {
        pc: np.mean([bool(s.acute_subtypes) for s in heads if s.patient_class == pc])
        for pc in PatientClass
    }
    assert 0.02 <= by_class[PatientClass.EMERGENCY] <= 0.12
    assert 0.2 <= by_class[PatientClass.INPATIENT] <= 0.42
    assert by_class[PatientClass.OUTPATIENT] <= 0.08


def test_subtype_mix_sdh_and_sah_commonest(specs: list) -> None:
    counts = Counter(
        h.subtype for s in specs for h in s.hemorrhages if h.stage != BleedStage.CHRONIC
    )
    assert counts[Subtype.SUBDURAL] > counts[Subtype.EPIDURAL]
    assert counts[Subtype.SUBARACHNOID] > counts[Subtype.EPIDURAL]


def test_chronic_only_is_not_positive(specs: list) -> None:
    chronic = [s for s in specs if s.chronic_only]
    assert chronic, "expected some chronic-only subdurals in the elderly"
    for spec in chronic:
        truth = truth_record(spec)
        assert truth["any"] is False
        assert truth["chronic"] is True
        assert spec.age_years >= 65


def test_identifiers_and_series(specs: list) -> None:
    for spec in specs[:50]:
        assert re.fullmatch(r"2\.25\.\d+", spec.study_uid)
        assert len(spec.study_uid) <= 64
        assert re.fullmatch(r"99\d{6}", spec.patient_id)
        assert re.fullmatch(r"[A-Z]+\^[A-Z]+", spec.patient_name)
        kinds = [p.kind for p in spec.series]
        assert kinds[0] == SeriesKind.LOCALIZER
        if spec.body_part == "HEAD" and spec.extra["contrast_only"] == "false":
            assert SeriesKind.AXIAL_SOFT in kinds
    assert len({s.accession for s in specs}) == len(specs)
    assert {s.body_part for s in specs} >= {"HEAD", "CHEST"}


def test_sampling_is_deterministic() -> None:
    options = SimulationOptions(seed=11)
    a = sample_study(np.random.default_rng([11, 5, 0]), options, 5)
    b = sample_study(np.random.default_rng([11, 5, 0]), options, 5)
    assert a == b
