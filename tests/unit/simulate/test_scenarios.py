from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest

from ichsilent.errors import SimulationError
from ichsilent.simulate import render
from ichsilent.simulate.fleet import PROFILES, REPLACED_STATION, REPLACEMENT_MODEL
from ichsilent.simulate.options import SimulationOptions
from ichsilent.simulate.population import sample_study
from ichsilent.simulate.scenarios import ScenarioName, ScenarioSet, parse_scenario
from ichsilent.simulate.spec import SeriesKind


def test_parse_and_errors() -> None:
    assert parse_scenario("scanner-change@3").day == 3
    assert parse_scenario("report-delay").day == 0
    with pytest.raises(SimulationError, match="expected one of"):
        parse_scenario("alien-invasion@2")
    with pytest.raises(SimulationError, match="not an integer"):
        parse_scenario("pacs-outage@soon")


def _sample(options: SimulationOptions, n: int) -> list:
    return [sample_study(np.random.default_rng([1, i, 0]), options, i) for i in range(n)]


def test_scanner_change_after_its_day() -> None:
    options = SimulationOptions(
        seed=1, studies_per_day=20, scenarios=ScenarioSet.parse(["scanner-change@2"])
    )
    specs = _sample(options, 100)
    before = [s for s in specs if int(s.extra["day"]) < 2 and s.scanner.station == REPLACED_STATION]
    after = [s for s in specs if int(s.extra["day"]) >= 2 and s.scanner.station == REPLACED_STATION]
    assert before
    assert after
    assert all(s.scanner.model != REPLACEMENT_MODEL for s in before)
    assert all(s.scanner.model == REPLACEMENT_MODEL for s in after)
    assert all(s.scenario == "scanner-change" for s in specs if int(s.extra["day"]) >= 2)
    assert all(s.scenario == "baseline" for s in specs if int(s.extra["day"]) < 2)


def test_scanner_change_visible_in_dicom(hospital_run: tuple[Path, dict[str, Any]]) -> None:
    out, _ = hospital_run
    truths = [json.loads(line) for line in (out / "truth.jsonl").read_text().splitlines()]
    changed = [t for t in truths if t["model"] == REPLACEMENT_MODEL]
    assert changed, "the fixture should have studies on the replaced station after day 1"
    for truth in changed:
        assert truth["day"] >= 1
        assert truth["scenario"] == "scanner-change"
        series = next(s for s in truth["series"] if s["kind"] == "axial_soft")
        path = next((out / "dicom" / truth["study_uid"] / series["series_uid"]).iterdir())
        ds = pydicom.dcmread(path)
        assert ds.Manufacturer == PROFILES[REPLACEMENT_MODEL].spec.manufacturer
        assert ds.ManufacturerModelName == REPLACEMENT_MODEL
        assert ds.ConvolutionKernel == PROFILES[REPLACEMENT_MODEL].spec.soft_kernel


def _noise(spec: Any) -> float:
    plan = next(p for p in spec.series if p.kind == SeriesKind.AXIAL_SOFT)
    a = render.render_series(spec, plan, np.random.default_rng(1)).hu.astype(float)
    b = render.render_series(spec, plan, np.random.default_rng(2)).hu.astype(float)
    inside = (a > 0) & (a < 80)
    return float(np.std((a - b)[inside]) / np.sqrt(2))


def test_scanner_change_noise_differs() -> None:
    options = SimulationOptions(seed=1, matrix=64)
    spec = next(
        s
        for s in _sample(options, 40)
        if s.body_part == "HEAD" and s.scanner.model == "SOMATOM Force"
    )
    new = PROFILES[REPLACEMENT_MODEL].spec
    changed = replace(spec, scanner=replace(new, station=spec.scanner.station))
    assert _noise(changed) > 1.3 * _noise(spec)


def test_other_scenarios() -> None:
    options = SimulationOptions(
        seed=1,
        studies_per_day=10,
        scenarios=ScenarioSet.parse(["pacs-outage@1", "protocol-change@2", "population-shift@3"]),
    )
    specs = _sample(options, 50)
    for spec in specs:
        day = int(spec.extra["day"])
        if ScenarioName.PACS_OUTAGE.value in spec.scenario:
            assert spec.extra["arrival_datetime"] >= "2025-01-08T00:00:00"
        if day >= 2 and spec.body_part == "HEAD":
            soft = [p for p in spec.series if p.kind == SeriesKind.AXIAL_SOFT]
            assert all(p.slice_thickness_mm == 3.0 for p in soft)
    shifted = [s.age_years for s in specs if int(s.extra["day"]) >= 3]
    baseline = [s.age_years for s in specs if int(s.extra["day"]) < 3]
    assert np.mean(shifted) > np.mean(baseline) - 5
