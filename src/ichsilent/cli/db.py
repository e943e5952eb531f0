"""``ichsilent db``: schema migrations."""

from __future__ import annotations

import typer

from ichsilent.cli.common import DbOption, settings_for
from ichsilent.store import engine as store_engine

app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)


def _report(url: str) -> None:
    revision = store_engine.current_revision(url)
    typer.echo(f"database at {store_engine.redact_url(url)} is at revision {revision}")


@app.command()
def upgrade(
    db: DbOption = None, revision: str = typer.Option("head", help="Target revision.")
) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    url = settings_for(db).effective_database_url
    store_engine.upgrade(url, revision)
    _report(url)


@app.command()
def downgrade(
    revision: str = typer.Argument(..., help="Target revision, e.g. -1 or base."),
    db: DbOption = None,
) -> None:
    """Revert migrations down to REVISION."""
    url = settings_for(db).effective_database_url
    store_engine.downgrade(url, revision)
    _report(url)


@app.command()
def current(db: DbOption = None) -> None:
    """Print the schema revision the database is at."""
    url = settings_for(db).effective_database_url
    typer.echo(store_engine.current_revision(url) or "empty (run: ichsilent db upgrade)")
