"""Alembic environment: run with the engine that ichsilent.store.engine hands in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, Engine

from ichsilent.store.engine import make_engine
from ichsilent.store.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    given: Engine | None = config.attributes.get("engine")
    owned = given is None
    if given is None:
        url = config.get_main_option("sqlalchemy.url")
        if not url:
            raise RuntimeError("no engine and no sqlalchemy.url: use `ichsilent db upgrade`")
        engine = make_engine(url)
    else:
        engine = given
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        if owned:
            engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
