"""``ichsilent doctor`` and ``ichsilent demo``: the state of the installation, honestly."""

from __future__ import annotations

import importlib.util
import shutil
from dataclasses import dataclass

import typer

from ichsilent.cli.common import DbOption, JsonOption, is_terminal, print_json, settings_for
from ichsilent.store import engine as store_engine


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)
    app.command("demo")(demo)


def _module(name: str) -> Check:
    found = importlib.util.find_spec(name) is not None
    return Check(f"python: {name}", found, "importable" if found else f"pip install {name}")


def _torch_device() -> Check:
    try:
        import torch
    except ImportError:
        return Check("torch", False, "not installed (make venv)")
    if torch.cuda.is_available():
        return Check("torch", True, f"{torch.__version__}, CUDA: {torch.cuda.get_device_name(0)}")
    return Check("torch", True, f"{torch.__version__}, CPU only (scoring falls back to CPU)")


def _binary(label: str, path: str, fix: str) -> Check:
    found = shutil.which(path) is not None
    return Check(label, found, path if found else fix)


def run_checks(database_url: str) -> list[Check]:
    checks = [
        _torch_device(),
        *(
            _module(m)
            for m in (
                "pydicom",
                "dicomweb_client",
                "evidently",
                "airflow",
                "streamlit",
                "weasyprint",
            )
        ),
        _binary("Orthanc (local PACS)", "Orthanc", "apt-get install -y orthanc orthanc-dicomweb"),
        _binary("pdftotext (report tests)", "pdftotext", "apt-get install -y poppler-utils"),
    ]
    revision = store_engine.current_revision(database_url)
    head = store_engine.head_revision()
    checks.append(
        Check(
            "database schema",
            revision == head,
            f"{store_engine.redact_url(database_url)} at {revision or 'empty'} (head {head})",
        )
    )
    return checks


def doctor(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Check the installation: Python packages, GPU, Orthanc, database schema."""
    checks = run_checks(settings_for(db).effective_database_url)
    if as_json:
        print_json([{"name": c.name, "ok": c.ok, "detail": c.detail} for c in checks])
    else:
        for c in checks:
            typer.echo(f"[{'ok' if c.ok else '!!'}] {c.name}: {c.detail}")
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


def demo(
    db: DbOption = None,
    days: int = typer.Option(2, min=1, help="Simulated days."),
    studies_per_day: int = typer.Option(10, min=1, help="Studies per simulated day."),
    matrix: int = typer.Option(512, help="Image matrix (rows = columns)."),
) -> None:
    """Run the silent trial on simulated data with the embedded defaults."""
    from ichsilent.pipeline.demo import DemoPlan, run_demo

    settings = settings_for(db)
    plan = DemoPlan(days=days, studies_per_day=studies_per_day, matrix=matrix)
    result = run_demo(settings, plan, progress=is_terminal())
    sim = result.simulated
    typer.echo(f"1. database   {result.database} at schema revision {result.revision}")
    typer.echo(f"2. local PACS Orthanc at {result.pacs['dicomweb_url']} (pid {result.pacs['pid']})")
    typer.echo(
        f"3. hospital   {sim['studies']} studies ({sim['in_scope']} head CTs, "
        f"{sim['positives']} with acute ICH), {sim['instances']} instances, "
        f"{sim['reports']} report revisions; scenarios {', '.join(sim['scenarios']) or 'none'}"
    )
    stow = sim.get("stow") or {}
    typer.echo(
        f"4. STOW-RS    {stow.get('instances', 0)} instances in {stow.get('seconds', 0):.1f} s, "
        f"{len(stow.get('failures', []))} failures"
    )
    typer.echo(f"5. QIDO-RS    finds {result.studies_in_pacs} of {result.studies_expected} studies")
    typer.echo(
        "not yet built (see the open issues): ingestion and scoring, report labeling and "
        "matching, monitoring, Airflow DAGs, dashboard, weekly PDF"
    )
    typer.echo(f"stop the local PACS with: ichsilent pacs stop --dir {settings.home / 'orthanc'}")
    for check in run_checks(settings.effective_database_url):
        typer.echo(f"[{'ok' if check.ok else '!!'}] {check.name}: {check.detail}")
    if result.studies_in_pacs != result.studies_expected or stow.get("failures"):
        raise typer.Exit(1)
