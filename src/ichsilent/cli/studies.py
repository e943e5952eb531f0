"""``ichsilent studies``: what the store knows about each study."""

from __future__ import annotations

import typer

from ichsilent.cli.common import DbOption, JsonOption, print_json, settings_for
from ichsilent.store import engine as store_engine
from ichsilent.store.repositories import StudyRepository


def register(app: typer.Typer) -> None:
    app.command("studies")(studies)


def studies(db: DbOption = None, as_json: JsonOption = False) -> None:
    """List studies: state, quarantine reason, selected series and scores."""
    url = settings_for(db).effective_database_url
    engine = store_engine.open_store(url)
    with store_engine.session_scope(engine) as session:
        rows = StudyRepository(session).study_summaries()
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo("no studies in the store yet (run: ichsilent ingest)")
        return
    for row in rows:
        score = row["scores"].get("any")
        shown = f"{score:.3f}" if score is not None else "-"
        typer.echo(f"{row['study_uid']}  {row['state']:<12} any={shown}  {row['reason'] or ''}")
