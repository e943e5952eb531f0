"""Engines, sessions and Alembic migrations driven from Python.

SQLite (embedded, one machine) and PostgreSQL (production) are the two supported back ends.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session

from ichsilent.errors import StoreError

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_SECONDS = 30
POSTGRES_CONNECT_TIMEOUT_SECONDS = 10


def _json_serializer(value: Any) -> str:
    # Sorted keys: the same content always gives the same text, so a re-run upsert is a no-op.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise StoreError(
            f"database URL {redact_url(url)!r} is not a SQLAlchemy URL; expected e.g. "
            "sqlite:///var/ichsilent.db or postgresql+psycopg://user@host/ichsilent"
        ) from exc


def redact_url(url: str | URL) -> str:
    """The URL with its password replaced by ``***`` (safe for logs and messages)."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return re.sub(r"(//[^:/@]*:)[^@]*@", r"\1***@", url)


def make_engine(url: str) -> Engine:
    """An engine for SQLite (foreign keys, WAL, busy timeout) or PostgreSQL (psycopg 3)."""
    parsed = _parse(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            json_serializer=_json_serializer,
            pool_pre_ping=True,
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(
            parsed,
            connect_args={"connect_timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS},
            json_serializer=_json_serializer,
            pool_pre_ping=True,
        )
    raise StoreError(
        f"database URL {redact_url(parsed)!r} uses {backend!r}; expected sqlite or postgresql"
    )


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# --- migrations --------------------------------------------------------------------------


def _migrations_dir() -> Path:
    return Path(str(resources.files("ichsilent.store") / "migrations"))


def alembic_config(engine: Engine | None = None) -> Config:
    """Alembic configuration pointing at the migrations shipped inside the package."""
    config = Config()
    config.set_main_option("script_location", str(_migrations_dir()))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The newest revision shipped with this version of ichsilent."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise StoreError(f"no Alembic revisions found under {_migrations_dir()}")
    return head


def _with_engine(url: str, action: str, run: Any) -> Any:
    engine = make_engine(url)
    try:
        return run(engine)
    except SQLAlchemyError as exc:
        raise StoreError(
            f"could not {action} the database at {redact_url(url)}: {exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0]}"
        ) from exc
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision``."""
    log.info("upgrading database at %s to %s", redact_url(url), revision)
    _with_engine(url, "upgrade", lambda e: command.upgrade(alembic_config(e), revision))


def downgrade(url: str, revision: str) -> None:
    """Revert migrations down to ``revision`` (e.g. ``-1`` or ``base``)."""
    log.info("downgrading database at %s to %s", redact_url(url), revision)
    _with_engine(url, "downgrade", lambda e: command.downgrade(alembic_config(e), revision))


def _current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def current_revision(url: str) -> str | None:
    """The revision the database is at, or None when it has never been migrated."""
    result: str | None = _with_engine(url, "read the revision of", _current)
    return result


def open_store(url: str) -> Engine:
    """An engine on a database whose schema is at head; StoreError otherwise."""
    engine = make_engine(url)
    try:
        current = _current(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StoreError(
            f"could not connect to the database at {redact_url(url)}: "
            f"{str(exc).splitlines()[0]} (check ICHSILENT_DATABASE_URL or --db)"
        ) from exc
    head = head_revision()
    if current != head:
        engine.dispose()
        raise StoreError(
            f"database at {redact_url(url)} is at revision {current or 'none (empty)'}, "
            f"expected head {head}: run `ichsilent db upgrade`"
        )
    return engine
