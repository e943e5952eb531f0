"""Issue 3's end-to-end path: local PACS up, the synthetic hospital stowed, QIDO finds it all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dicomweb_client.api import DICOMwebClient
from typer.testing import CliRunner

from ichsilent.cli import app
from ichsilent.pacs import orthanc as local_orthanc

pytestmark = pytest.mark.orthanc


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_pacs_start_simulate_stow_qido_stop(tmp_path: Path, orthanc_installed: None) -> None:
    pacs_dir = tmp_path / "orthanc"
    _run("pacs", "start", "--dir", str(pacs_dir))
    try:
        summary = json.loads(
            _run(
                "simulate",
                "--out",
                str(tmp_path / "sim"),
                "--days",
                "2",
                "--studies-per-day",
                "4",
                "--seed",
                "11",
                "--matrix",
                "64",
                "--scenario",
                "scanner-change@1",
                "--workers",
                "2",
                "--stow",
                "local",
                "--pacs-dir",
                str(pacs_dir),
                "--json",
            )
        )
        assert summary["stow"]["failures"] == []
        assert not (tmp_path / "sim" / "dicom").exists(), "stowed runs keep no local copy"

        truth = [json.loads(line) for line in (tmp_path / "sim" / "truth.jsonl").open()]
        handle = local_orthanc.status(pacs_dir)
        assert handle is not None
        client = DICOMwebClient(url=handle.dicomweb_url, session=handle.session())
        found = client.search_for_studies(fields=["ModalitiesInStudy", "AccessionNumber"])
        found_uids = {s["0020000D"]["Value"][0] for s in found}
        assert found_uids == {t["study_uid"] for t in truth}
        assert summary["stow"]["instances"] == summary["instances"]

        # The scanner change is visible to a QIDO client from day 1 on.
        changed = [t for t in truth if t["scenario"] == "scanner-change"]
        assert changed, "the scenario must affect some studies from its day"
        study = changed[0]
        series = client.search_for_series(
            study["study_uid"], fields=["Manufacturer", "ManufacturerModelName"]
        )
        models = {s.get("00081090", {}).get("Value", [None])[0] for s in series}
        assert study["model"] in models
    finally:
        _run("pacs", "stop", "--dir", str(pacs_dir))
    assert local_orthanc.status(pacs_dir) is None
