"""``ichsilent pacs start|status|stow|stop`` through the command line (real Orthanc)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ichsilent.cli import pacs as pacs_cli

pytestmark = pytest.mark.orthanc


@pytest.mark.usefixtures("orthanc_installed")
def test_cli_start_status_stow_stop(make_ct_instances, tmp_path: Path) -> None:
    directory = tmp_path / "var" / "orthanc"
    runner = CliRunner()
    started = runner.invoke(pacs_cli.app, ["start", "--dir", str(directory)])
    try:
        assert started.exit_code == 0, started.output
        assert "export ICHSILENT_DICOMWEB_URL=http://127.0.0.1:" in started.output
        assert "export ICHSILENT_DICOMWEB_PASSWORD=" in started.output
        assert str(directory / "credentials.json") in started.output

        shown = runner.invoke(pacs_cli.app, ["status", "--dir", str(directory), "--json"])
        assert shown.exit_code == 0, shown.output
        described = json.loads(shown.stdout)
        assert described["running"] is True
        assert "password" not in described

        make_ct_instances(tmp_path / "dicom", studies=1, slices=2)
        stowed = runner.invoke(
            pacs_cli.app, ["stow", str(tmp_path / "dicom"), "--dir", str(directory), "--json"]
        )
        assert stowed.exit_code == 0, stowed.output
        assert json.loads(stowed.stdout)["instances"] == 2
    finally:
        stopped = runner.invoke(pacs_cli.app, ["stop", "--dir", str(directory)])
    assert stopped.exit_code == 0, stopped.output
    assert not _pid_alive(described["pid"])
    gone = runner.invoke(pacs_cli.app, ["status", "--dir", str(directory), "--json"])
    assert gone.exit_code == 1
    assert json.loads(gone.stdout) == {"running": False, "directory": str(directory.absolute())}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] != "Z"
