from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from dicomweb_client import DICOMfileClient

from ichsilent.errors import SimulationError
from ichsilent.simulate.hospital import simulate
from ichsilent.simulate.spec import SeriesKind

from .conftest import RUN_KWARGS

TRUTH_KEYS = {
    "study_uid", "accession", "study_datetime", "labels", "chronic", "manufacturer", "model",
    "patient_class", "scenario", "in_scope", "body_part", "series", "report_missed",
    "arrival_datetime", "age", "sex", "site", "hemorrhages", "mimics", "artefacts",
}  # fmt: skip


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def test_truth_and_summary(hospital_run: tuple[Path, dict[str, Any]]) -> None:
    out, summary = hospital_run
    truths = [json.loads(x) for x in (out / "truth.jsonl").read_text().splitlines()]
    assert len(truths) == summary["studies"] == 12
    for truth in truths:
        assert set(truth) >= TRUTH_KEYS
        assert set(truth["labels"]) == {
            "epidural", "subdural", "subarachnoid", "intraparenchymal", "intraventricular"
        }  # fmt: skip
        assert truth["any"] == any(truth["labels"].values())
        assert truth["patient_class"] in ("E", "I", "O")
        kinds = [s["kind"] for s in truth["series"]]
        if truth["in_scope"]:
            assert SeriesKind.AXIAL_SOFT.value in kinds


def test_dicomfileclient_finds_everything(hospital_run: tuple[Path, dict[str, Any]]) -> None:
    out, _ = hospital_run
    truths = [json.loads(x) for x in (out / "truth.jsonl").read_text().splitlines()]
    client = DICOMfileClient(url=f"file://{out / 'dicom'}", in_memory=True)
    found = {s["0020000D"]["Value"][0] for s in client.search_for_studies()}
    assert found == {t["study_uid"] for t in truths}
    truth = truths[0]
    series = truth["series"][1]
    instances = client.retrieve_series(truth["study_uid"], series["series_uid"])
    assert len(instances) == series["instances"]


def test_same_seed_same_bytes(tmp_path: Path, hospital_run: tuple[Path, dict[str, Any]]) -> None:
    out, _ = hospital_run
    again = tmp_path / "again"
    kwargs = dict(RUN_KWARGS, workers=2)
    simulate(again, **kwargs)
    assert _digest(again) == _digest(out)


def test_unknown_scenario_and_bad_values(tmp_path: Path) -> None:
    with pytest.raises(SimulationError, match="scanner-change"):
        simulate(tmp_path, 1, 1, 0, scenarios=["meteor@1"], matrix=32)
    with pytest.raises(SimulationError, match="prevalence"):
        simulate(tmp_path, 1, 1, 0, prevalence=1.5, matrix=32)
