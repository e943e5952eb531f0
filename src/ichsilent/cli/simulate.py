"""``ichsilent simulate``: a synthetic hospital (DICOM + reports + HL7 + truth)."""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer

from ichsilent.cli.common import LOCAL_PACS_DIR, JsonOption, PacsDirOption, is_terminal, print_json
from ichsilent.errors import SimulationError


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise SimulationError(f"--start {value!r} is not a date; expected YYYY-MM-DD") from None


def simulate(
    out: Annotated[Path, typer.Option("--out", help="Output directory.")],
    days: Annotated[int, typer.Option("--days", min=1, help="Number of days.")] = 1,
    studies_per_day: Annotated[
        int, typer.Option("--studies-per-day", min=1, help="Studies per day.")
    ] = 20,
    seed: Annotated[int, typer.Option("--seed", help="Seed: same seed, same files.")] = 0,
    start: Annotated[
        str | None, typer.Option("--start", help="First day, YYYY-MM-DD (default 2025-01-06).")
    ] = None,
    scenario: Annotated[
        list[str] | None,
        typer.Option(
            "--scenario",
            help="NAME[@DAY], repeatable: scanner-change, protocol-change, population-shift, "
            "prevalence-shift, pacs-outage, report-delay.",
        ),
    ] = None,
    prevalence: Annotated[
        float | None, typer.Option("--prevalence", help="Acute ICH prevalence for all settings.")
    ] = None,
    matrix: Annotated[int, typer.Option("--matrix", help="Rows = columns of axial images.")] = 512,
    stow: Annotated[
        str | None,
        typer.Option(
            "--stow",
            help="Send DICOM by STOW-RS to this DICOMweb root, or 'local' for the Orthanc "
            "started by `ichsilent pacs start` (its credentials are used).",
        ),
    ] = None,
    pacs_dir: PacsDirOption = LOCAL_PACS_DIR,
    rsna_format: Annotated[
        bool, typer.Option("--rsna-format", help="Also write an RSNA-challenge style export.")
    ] = False,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Worker processes (default: cores).")
    ] = None,
    thin_probability: Annotated[
        float, typer.Option("--thin-probability", help="Share of head CTs with thin slices.")
    ] = 0.05,
    no_compression: Annotated[
        bool, typer.Option("--no-compression", help="Store every instance uncompressed.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Simulate a hospital's CT studies, radiology reports and the truth behind them."""
    from ichsilent.cli.pacs import pacs_target
    from ichsilent.simulate.hospital import simulate as run

    stow_url, stow_user, stow_password = pacs_target(stow, pacs_dir) if stow else (None, None, None)

    summary = run(
        out,
        days,
        studies_per_day,
        seed,
        start=_parse_date(start),
        scenarios=scenario or (),
        prevalence=prevalence,
        matrix=matrix,
        stow_url=stow_url,
        stow_username=stow_user,
        stow_password=stow_password,
        rsna_format=rsna_format,
        workers=workers or os.cpu_count() or 1,
        progress=is_terminal(),
        thin_probability=thin_probability,
        compression=not no_compression,
    )
    if as_json:
        print_json(summary)
        return
    typer.echo(
        f"{summary['studies']} studies ({summary['positives']} with acute ICH, "
        f"{summary['instances']} instances, {summary['reports']} report revisions) "
        f"in {summary['seconds']} s -> {summary['out_dir']}"
    )
    stow_result = summary.get("stow")
    if stow_result and stow_result["failures"]:
        typer.secho(f"STOW-RS failures: {stow_result['failures']}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
