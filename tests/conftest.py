"""Fixtures shared by the whole suite: a fresh database on SQLite and on PostgreSQL.

PostgreSQL: the local server (``pg_ctlcluster 15 main start``) reached through its unix
socket as the current OS user, who must be a superuser role (Makefile set-up:
``su postgres -c "createuser --superuser $(whoami)"``). Each test gets a throwaway
database, dropped afterwards. Without a server the PostgreSQL half is skipped, except
with ``CI=true``, where it fails: CI must prove PostgreSQL.
"""

from __future__ import annotations

import getpass
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

PG_HOST = os.environ.get("ICHSILENT_TEST_PG_HOST", "/var/run/postgresql")
PG_SETUP = (
    'pg_ctlcluster 15 main start && su postgres -c "createuser --superuser $(whoami)" '
    "(or set ICHSILENT_TEST_PG_USER / ICHSILENT_TEST_PG_HOST)"
)


def postgres_url(database: str) -> str:
    user = os.environ.get("ICHSILENT_TEST_PG_USER", getpass.getuser())
    return f"postgresql+psycopg://{user}@/{database}?host={PG_HOST}"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}:
        pytest.fail(f"CI=true: PostgreSQL is required but {reason}")
    pytest.skip(reason)


def _postgres_installed() -> bool:
    return shutil.which("pg_ctlcluster") is not None or Path("/usr/lib/postgresql").is_dir()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty database: a temporary SQLite file, or a throwaway PostgreSQL one."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'var' / 'ichsilent.db'}"
        return
    if not _postgres_installed():
        _unavailable("the PostgreSQL server is not installed (apt-get install postgresql-15)")
    name = f"ichsilent_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(
        postgres_url("postgres"),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 5},
    )
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        first_line = str(exc.orig or exc).strip().splitlines()[0]
        _unavailable(f"cannot create a database on {PG_HOST} ({first_line}); set up: {PG_SETUP}")
    try:
        yield postgres_url(name)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
