"""run_ingest on a simulated hospital served by the folder twin of a PACS."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ichsilent.config import load_settings
from ichsilent.domain import StudyState
from ichsilent.ingest.client import FolderPacsClient
from ichsilent.ingest.selection_rules import load_selection_rules
from ichsilent.pipeline.ingest import run_ingest
from ichsilent.simulate.hospital import simulate
from ichsilent.store import engine as store_engine
from ichsilent.store.repositories import SeriesRepository, StudyRepository

CONFIG = Path(__file__).resolve().parents[3] / "config" / "series_selection.yaml"
SINCE = datetime(2025, 1, 6, tzinfo=UTC)
UNTIL = datetime(2025, 1, 7, tzinfo=UTC)


@pytest.fixture(scope="module")
def hospital(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hospital")
    simulate(out, 1, 6, 3, matrix=64, workers=1)
    return out


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store_engine.upgrade(url)
    return store_engine.open_store(url)


def _summaries(engine: Engine) -> dict[str, dict[str, object]]:
    with store_engine.session_scope(engine) as session:
        return {r["study_uid"]: r for r in StudyRepository(session).study_summaries()}


def test_ingest_selects_axial_soft_and_is_idempotent(
    hospital: Path, engine: Engine, tmp_path: Path
) -> None:
    settings = load_settings(home=str(tmp_path / "var"), settle_seconds=0)
    rules = load_selection_rules(CONFIG)
    client = FolderPacsClient(hospital / "dicom")
    now = UNTIL + timedelta(hours=1)
    fetched_uids: list[str] = []
    summary = run_ingest(
        settings,
        client,
        engine,
        since=SINCE,
        until=UNTIL,
        now=now,
        rules=rules,
        on_fetched=lambda uid, decoded: fetched_uids.append(uid),
    )
    truth = [json.loads(line) for line in (hospital / "truth.jsonl").open()]
    rows = _summaries(engine)
    assert summary.discovered == len(truth) == len(rows)
    for t in truth:
        row = rows[t["study_uid"]]
        if t["body_part"] != "HEAD":
            assert (row["state"], row["reason"]) == ("skipped", "not_head_ct")
            continue
        soft = next(s["series_uid"] for s in t["series"] if s["kind"] == "axial_soft")
        assert (row["state"], row["selected_series_uid"]) == ("fetched", soft), row
        assert row["scores"] == {}
        assert row["accession_pseudo"] != t["accession"]
    assert sorted(fetched_uids) == sorted(u for u, r in rows.items() if r["state"] == "fetched")
    with store_engine.session_scope(engine) as session:
        head = next(u for u, r in rows.items() if r["state"] == "fetched")
        study = StudyRepository(session).get(head)
        assert study.features is not None
        assert "noise_hu" in study.features["image"]
        assert sum(s.selected for s in SeriesRepository(session).for_study(head)) == 1
    assert summary.watermark == UNTIL

    again = run_ingest(settings, client, engine, since=SINCE, until=UNTIL, now=now, rules=rules)
    assert again.unchanged == len(truth)
    assert again.states == {}
    assert _summaries(engine) == rows


def test_settle_time_defers_until_the_count_is_stable(
    hospital: Path, engine: Engine, tmp_path: Path
) -> None:
    settings = load_settings(home=str(tmp_path / "var"), settle_seconds=60)
    rules = load_selection_rules(CONFIG)
    client = FolderPacsClient(hospital / "dicom")
    kwargs = {"since": SINCE, "until": UNTIL, "rules": rules}
    first = run_ingest(settings, client, engine, now=UNTIL, **kwargs)  # type: ignore[arg-type]
    assert set(first.states) == {"deferred"}
    assert {r["reason"] for r in _summaries(engine).values()} == {"still_receiving"}
    assert first.watermark is not None
    assert first.watermark < UNTIL
    early = run_ingest(  # type: ignore[arg-type]
        settings, client, engine, now=UNTIL + timedelta(seconds=30), **kwargs
    )
    assert set(early.states) == {"deferred"}
    later = run_ingest(  # type: ignore[arg-type]
        settings, client, engine, now=UNTIL + timedelta(seconds=61), **kwargs
    )
    assert StudyState.DEFERRED.value not in later.states
    assert later.states.get("fetched", 0) >= 1
    assert later.watermark == UNTIL
