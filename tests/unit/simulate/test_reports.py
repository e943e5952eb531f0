from __future__ import annotations

import re
from datetime import datetime

import numpy as np
import pytest

from ichsilent.domain import PatientClass
from ichsilent.simulate.options import SimulationOptions
from ichsilent.simulate.population import sample_study
from ichsilent.simulate.report_phrases import SUBTYPE_TERMS
from ichsilent.simulate.reports import write_reports

NEGATION = re.compile(r"\bno\b[^.]*\b(hemorrhage|haemorrhage|bleed)|negative for", re.IGNORECASE)


def _named(text: str, subtype: object) -> bool:
    return any(
        re.search(rf"(?<!\w){re.escape(term)}(?!\w)", text, re.IGNORECASE)
        for term in SUBTYPE_TERMS[subtype]  # type: ignore[index]
    )


@pytest.fixture(scope="module")
def studies() -> list:
    options = SimulationOptions(
        seed=9, studies_per_day=50, prevalence=0.4, miss_trace_probability=0.5
    )
    out = []
    for i in range(300):
        spec = sample_study(np.random.default_rng([9, i, 0]), options, i)
        out.append((spec, write_reports(np.random.default_rng([9, i, 2]), spec, options, i)))
    return out


def test_final_report_agrees_with_truth(studies: list) -> None:
    missed_any = corrected_any = False
    for spec, outcome in studies:
        if spec.body_part != "HEAD":
            continue
        latest = outcome.revisions[-1].text
        for subtype in spec.acute_subtypes:
            if subtype in outcome.missed:
                missed_any = True
                continue
            assert _named(latest, subtype), (subtype, latest)
        if not spec.acute_subtypes or set(spec.acute_subtypes) <= set(outcome.missed):
            assert NEGATION.search(outcome.revisions[-1].text), latest
        corrected_any |= outcome.corrected
    assert missed_any
    assert corrected_any


def test_statuses_ids_and_delays(studies: list) -> None:
    delays: dict[PatientClass, list[float]] = {pc: [] for pc in PatientClass}
    for spec, outcome in studies:
        statuses = [r.status for r in outcome.revisions]
        assert statuses in (["F"], ["P", "F"], ["F", "C"], ["P", "F", "C"])
        assert len({r.id for r in outcome.revisions}) == 1
        assert re.fullmatch(r"RPT-\d{9}", outcome.revisions[0].id)
        times = [datetime.fromisoformat(r.observed_at) for r in outcome.revisions]
        assert times == sorted(times)
        acquired = datetime.fromisoformat(spec.study_datetime)
        final = next(r for r in outcome.revisions if r.status == "F")
        delays[spec.patient_class].append(
            (datetime.fromisoformat(final.observed_at) - acquired).total_seconds()
        )
        assert all(
            "FINDINGS" in r.text.upper() and "IMPRESSION" in r.text.upper()
            for r in outcome.revisions
            if spec.body_part == "HEAD"
        )
    assert np.median(delays[PatientClass.EMERGENCY]) < np.median(delays[PatientClass.OUTPATIENT])


def test_wording_varies(studies: list) -> None:
    negatives = [
        o.revisions[-1].text for s, o in studies if not s.hemorrhages and s.body_part == "HEAD"
    ]
    impressions = {t.split("IMPRESSION:")[1].strip().splitlines()[0] for t in negatives}
    assert len(impressions) >= 3
