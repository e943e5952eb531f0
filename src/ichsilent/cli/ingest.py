"""``ichsilent ingest``: discover, select, fetch, decode and check new head CTs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from ichsilent.cli.common import (
    LOCAL_PACS_DIR,
    DbOption,
    JsonOption,
    PacsDirOption,
    print_json,
    settings_for,
)
from ichsilent.errors import ConfigError


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)


def _instant(option: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"{option} {value!r} is not an ISO 8601 date or time; expected e.g. 2025-01-06 "
            "or 2025-01-06T08:00:00+00:00"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def ingest(
    dicomweb: Annotated[
        str | None,
        typer.Option(
            "--dicomweb",
            help="DICOMweb root, a folder of DICOM files, or 'local' for the Orthanc of "
            "`ichsilent pacs start` (default: ICHSILENT_DICOMWEB_URL).",
        ),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Start (ISO); default: the stored watermark.")
    ] = None,
    until: Annotated[str | None, typer.Option("--until", help="End (ISO); default: now.")] = None,
    rules: Annotated[Path, typer.Option("--rules", help="Series-selection rules (YAML).")] = Path(
        "config/series_selection.yaml"
    ),
    pacs_dir: PacsDirOption = LOCAL_PACS_DIR,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ingest the CT studies acquired in [--since, --until) from the PACS."""
    from ichsilent.cli.pacs import pacs_target
    from ichsilent.ingest.client import open_pacs_client
    from ichsilent.ingest.selection_rules import load_selection_rules
    from ichsilent.pipeline.ingest import run_ingest
    from ichsilent.store import engine as store_engine

    settings = settings_for(db)
    if dicomweb == "local":
        url, username, password = pacs_target("local", pacs_dir)
        client = open_pacs_client(url, username=username, password=password)
    elif dicomweb is not None:
        client = open_pacs_client(settings.model_copy(update={"dicomweb_url": dicomweb}))
    else:
        client = open_pacs_client(settings)
    end = _instant("--until", until) or datetime.now(UTC)
    engine = store_engine.open_store(settings.effective_database_url)
    summary = run_ingest(
        settings,
        client,
        engine,
        since=_instant("--since", since),
        until=end,
        now=end,
        rules=load_selection_rules(rules),
    )
    if as_json:
        print_json(summary.as_dict())
        return
    data = summary.as_dict()
    states = ", ".join(f"{n} {state}" for state, n in sorted(summary.states.items())) or "none"
    typer.echo(
        f"{data['discovered']} studies discovered in [{data['since']}, {data['until']}): "
        f"{states}; {data['unchanged']} unchanged since the last run"
    )
