"""The demo run on embedded defaults: every part that exists, on a simulated hospital.

It grows with the project; each step reports numbers so a person can see it worked.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dicomweb_client.api import DICOMwebClient

from ichsilent.config import Settings
from ichsilent.pacs import orthanc
from ichsilent.simulate.hospital import simulate
from ichsilent.store import engine as store_engine

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DemoPlan:
    days: int = 2
    studies_per_day: int = 10
    seed: int = 2026
    matrix: int = 512
    scenarios: tuple[str, ...] = ("scanner-change@1",)


@dataclass(slots=True)
class DemoResult:
    database: str
    revision: str | None
    pacs: dict[str, Any]
    simulated: dict[str, Any]
    studies_in_pacs: int
    studies_expected: int
    steps: list[str] = field(default_factory=list)


def run_demo(settings: Settings, plan: DemoPlan, *, progress: bool = False) -> DemoResult:
    """Schema, local PACS, synthetic hospital stowed over DICOMweb, QIDO check."""
    url = settings.effective_database_url
    store_engine.upgrade(url)
    pacs_dir = settings.home / "orthanc"
    handle = orthanc.start(pacs_dir)
    out = settings.home / "demo" / "hospital"
    simulated = simulate(
        out,
        plan.days,
        plan.studies_per_day,
        plan.seed,
        scenarios=plan.scenarios,
        matrix=plan.matrix,
        stow_url=handle.dicomweb_url,
        stow_username=handle.username,
        stow_password=handle.password,
        progress=progress,
    )
    client = DICOMwebClient(url=handle.dicomweb_url, session=handle.session())
    expected = _study_uids(out / "truth.jsonl")
    found = {s["0020000D"]["Value"][0] for s in client.search_for_studies(fields=[])}
    return DemoResult(
        database=store_engine.redact_url(url),
        revision=store_engine.current_revision(url),
        pacs=handle.describe(),
        simulated=simulated,
        studies_in_pacs=len(found & expected),
        studies_expected=len(expected),
    )


def _study_uids(truth_path: Path) -> set[str]:
    with truth_path.open(encoding="utf-8") as handle:
        return {json.loads(line)["study_uid"] for line in handle if line.strip()}
