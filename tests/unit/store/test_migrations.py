"""Alembic migrations on SQLite and PostgreSQL: creation, round trip, ORM == schema."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError, StatementError

from ichsilent.errors import StoreError
from ichsilent.store import engine as store_engine
from ichsilent.store.models import AuditEntry, Base

EXPECTED_TABLES = {
    "studies",
    "series",
    "model_versions",
    "inferences",
    "reports",
    "report_revisions",
    "report_labels",
    "cases",
    "adjudications",
    "metric_snapshots",
    "drift_snapshots",
    "alerts",
    "weekly_reports",
    "audit_log",
    "ingestion_watermarks",
}


def _tables(url: str) -> set[str]:
    engine = store_engine.make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_orm_declares_the_expected_tables() -> None:
    assert set(Base.metadata.tables) == EXPECTED_TABLES


def test_upgrade_creates_every_table(database_url: str) -> None:
    assert store_engine.current_revision(database_url) is None
    store_engine.upgrade(database_url)
    assert _tables(database_url) == EXPECTED_TABLES | {"alembic_version"}
    assert store_engine.current_revision(database_url) == store_engine.head_revision()


def test_upgrade_downgrade_upgrade_round_trip(database_url: str) -> None:
    store_engine.upgrade(database_url)
    store_engine.downgrade(database_url, "base")
    assert _tables(database_url) <= {"alembic_version"}
    assert store_engine.current_revision(database_url) is None
    store_engine.upgrade(database_url)
    assert _tables(database_url) == EXPECTED_TABLES | {"alembic_version"}
    store_engine.upgrade(database_url)  # already at head: a no-op
    assert store_engine.current_revision(database_url) == store_engine.head_revision()


def test_orm_metadata_matches_migrated_schema(database_url: str) -> None:
    store_engine.upgrade(database_url)
    engine = store_engine.make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True}
            )
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_open_store_refuses_a_database_not_at_head(database_url: str) -> None:
    with pytest.raises(StoreError, match=r"expected head .*ichsilent db upgrade"):
        store_engine.open_store(database_url)
    store_engine.upgrade(database_url)
    store_engine.open_store(database_url).dispose()


def test_audit_log_refuses_update_and_delete(database_url: str) -> None:
    store_engine.upgrade(database_url)
    engine = store_engine.open_store(database_url)
    try:
        with store_engine.session_scope(engine) as session:
            session.add(
                AuditEntry(at=datetime(2025, 1, 6, tzinfo=UTC), actor="t", action="a", entity="e")
            )
        for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
            with pytest.raises(DBAPIError, match="append only"), engine.begin() as connection:
                connection.execute(text(statement))
        with engine.connect() as connection:
            assert connection.execute(text("SELECT actor FROM audit_log")).scalar_one() == "t"
    finally:
        engine.dispose()


def test_session_scope_commits_or_rolls_back(database_url: str) -> None:
    store_engine.upgrade(database_url)
    engine = store_engine.open_store(database_url)
    at = datetime(2025, 1, 6, tzinfo=UTC)
    try:

        def fail_midway() -> None:
            with store_engine.session_scope(engine) as session:
                session.add(AuditEntry(at=at, actor="lost", action="a", entity="e"))
                session.flush()
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            fail_midway()
        with store_engine.session_scope(engine) as session:
            session.add(AuditEntry(at=at, actor="kept", action="a", entity="e"))
        with engine.connect() as connection:
            actors = connection.execute(text("SELECT actor FROM audit_log")).scalars().all()
        assert actors == ["kept"]
    finally:
        engine.dispose()


def test_timestamps_are_utc_aware_and_naive_ones_refused(database_url: str) -> None:
    store_engine.upgrade(database_url)
    engine = store_engine.open_store(database_url)
    try:
        with store_engine.session_scope(engine) as session:
            local = datetime.fromisoformat("2025-01-06T09:30:00+02:00")
            session.add(AuditEntry(at=local, actor="t", action="a", entity="e"))
        with store_engine.session_scope(engine) as session:
            entry = session.query(AuditEntry).one()
            assert entry.at == datetime(2025, 1, 6, 7, 30, tzinfo=UTC)
            assert entry.at.utcoffset() is not None
        naive = AuditEntry(at=datetime(2025, 1, 6), actor="t", action="a", entity="e")
        with store_engine.session_scope(engine) as session:
            session.add(naive)
            with pytest.raises(StatementError, match="naive datetime"):
                session.flush()
            session.rollback()
    finally:
        engine.dispose()


def test_sqlite_engine_sets_pragmas_and_creates_the_directory(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "store.db"
    engine = store_engine.make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
            assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
            assert connection.execute(text("PRAGMA busy_timeout")).scalar_one() >= 1000
        assert path.parent.is_dir()
    finally:
        engine.dispose()


def test_unsupported_urls_are_refused() -> None:
    with pytest.raises(StoreError, match="expected sqlite or postgresql"):
        store_engine.make_engine("mysql://user:pw@host/db")
    with pytest.raises(StoreError, match="not a SQLAlchemy URL"):
        store_engine.make_engine("not a url")


def test_plain_postgresql_urls_use_psycopg() -> None:
    engine = store_engine.make_engine("postgresql://u@localhost/db")
    try:
        assert engine.dialect.driver == "psycopg"
    finally:
        engine.dispose()


def test_redact_url_hides_the_password() -> None:
    redacted = store_engine.redact_url("postgresql+psycopg://alice:s3cret@db.example/ich")
    assert "s3cret" not in redacted
    assert "alice" in redacted
    assert "s3cret" not in store_engine.redact_url("weird://bob:s3cret@host:not-a-port/x")
    assert store_engine.redact_url("sqlite:///var/ichsilent.db") == "sqlite:///var/ichsilent.db"


def test_connection_failure_names_the_redacted_url() -> None:
    url = "postgresql+psycopg://nobody:topsecret@127.0.0.1:1/none?connect_timeout=1"
    with pytest.raises(StoreError) as raised:
        store_engine.open_store(url)
    assert "topsecret" not in str(raised.value)
    assert "***" in str(raised.value)
