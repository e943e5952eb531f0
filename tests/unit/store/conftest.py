"""Store fixtures: a migrated database, a session on it, and row fingerprints."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, select
from sqlalchemy.orm import Session

from ichsilent.store import engine as store_engine


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    store_engine.upgrade(database_url)
    engine = store_engine.open_store(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with store_engine.session_scope(engine) as session:
        yield session


def all_rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every reflected table (alembic_version included), ordered by key."""
    metadata = MetaData()
    metadata.reflect(engine)
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as connection:
        for name, table in sorted(metadata.tables.items()):
            order = list(table.primary_key.columns) or list(table.columns)
            rows[name] = [tuple(r) for r in connection.execute(select(table).order_by(*order))]
    return rows


@pytest.fixture
def fingerprint() -> Callable[[Engine], tuple[dict[str, int], str]]:
    """Row count per table and a SHA-256 over the content of all rows."""

    def compute(engine: Engine) -> tuple[dict[str, int], str]:
        rows = all_rows(engine)
        digest = hashlib.sha256(repr(sorted(rows.items())).encode()).hexdigest()
        return {name: len(values) for name, values in rows.items()}, digest

    return compute
