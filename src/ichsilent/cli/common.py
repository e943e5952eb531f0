"""Options and helpers shared by every command group."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ichsilent.config import Settings, load_settings

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="SQLAlchemy database URL (default: ICHSILENT_DATABASE_URL, else SQLite under ./var).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
LOCAL_PACS_DIR = Path("var/orthanc")
PacsDirOption = Annotated[
    Path, typer.Option("--pacs-dir", help="State directory of the local Orthanc ('local').")
]


def settings_for(db: str | None = None, **overrides: Any) -> Settings:
    """Settings with the command line's overrides applied (None means 'not given')."""
    return load_settings(database_url=db, **overrides)


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, default=str, sort_keys=False)
    sys.stdout.write("\n")


def is_terminal() -> bool:
    """Progress bars only when a person is watching."""
    return sys.stderr.isatty()
