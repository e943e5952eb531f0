"""`ichsilent ingest` against a real Orthanc loaded by the simulator, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ichsilent.cli import app

pytestmark = pytest.mark.orthanc


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_ingest_from_orthanc_selects_the_soft_tissue_series(
    tmp_path: Path, orthanc_installed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ICHSILENT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ICHSILENT_SETTLE_SECONDS", "0")
    db = f"sqlite:///{tmp_path / 'store.db'}"
    pacs_dir = tmp_path / "orthanc"
    _run("db", "upgrade", "--db", db)
    _run("pacs", "start", "--dir", str(pacs_dir))
    try:
        _run(
            "simulate", "--out", str(tmp_path / "sim"), "--days", "1", "--studies-per-day", "8",
            "--seed", "21", "--matrix", "64", "--workers", "2",
            "--stow", "local", "--pacs-dir", str(pacs_dir),
        )  # fmt: skip
        window = ("--since", "2025-01-06", "--until", "2025-01-07")
        ingest = ("ingest", "--dicomweb", "local", "--pacs-dir", str(pacs_dir), "--db", db)
        first = json.loads(_run(*ingest, *window, "--json"))
        studies = json.loads(_run("studies", "--json", "--db", db))
        again = json.loads(_run(*ingest, *window, "--json"))
        studies_again = json.loads(_run("studies", "--json", "--db", db))
    finally:
        _run("pacs", "stop", "--dir", str(pacs_dir))

    truth = {t["study_uid"]: t for t in map(json.loads, (tmp_path / "sim/truth.jsonl").open())}
    assert first["discovered"] == len(truth)
    assert {s["study_uid"] for s in studies} == set(truth)
    for study in studies:
        expected = truth[study["study_uid"]]
        soft = [s["series_uid"] for s in expected["series"] if s["kind"] == "axial_soft"]
        if expected["in_scope"] and soft:
            assert study["state"] == "fetched", study
            assert study["selected_series_uid"] == soft[0]
        else:
            assert study["state"] in {"skipped", "quarantined"}, study
            assert study["reason"], study
        assert study["accession_pseudo"] != expected["accession"]
    # A re-run over the same window changes nothing.
    assert again["unchanged"] == len(truth)
    assert studies_again == studies
