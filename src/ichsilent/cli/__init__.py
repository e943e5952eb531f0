"""The ``ichsilent`` command line. Each command group lives in its own module."""

from __future__ import annotations

import logging
import sys

import typer

from ichsilent import __version__
from ichsilent.cli import db as db_commands
from ichsilent.cli import ingest as ingest_commands
from ichsilent.cli import pacs as pacs_commands
from ichsilent.cli import simulate as simulate_commands
from ichsilent.cli import studies as studies_commands
from ichsilent.cli import system as system_commands
from ichsilent.errors import IchSilentError

app = typer.Typer(
    name="ichsilent",
    help="Run an ICH model in silent mode and monitor it for the AI governance committee.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ichsilent {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log at DEBUG level."),
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


app.add_typer(db_commands.app, name="db")
app.add_typer(pacs_commands.app, name="pacs")
ingest_commands.register(app)
studies_commands.register(app)
simulate_commands.register(app)
system_commands.register(app)


def main() -> None:
    """Console entry point: library errors become one clear line and exit code 2."""
    try:
        app()
    except IchSilentError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)
