"""``ichsilent pacs``: the local demo/test Orthanc (start, stop, status) and STOW into it."""

from __future__ import annotations

import shlex
from dataclasses import asdict
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer

from ichsilent.cli.common import JsonOption, print_json
from ichsilent.config import load_settings
from ichsilent.errors import PacsError
from ichsilent.pacs import orthanc, stow

app = typer.Typer(
    help="Local Orthanc (Debian package) for the demo and tests; STOW into it.",
    no_args_is_help=True,
)

DirOption = Annotated[
    Path,
    typer.Option("--dir", help="State directory of the local Orthanc (config, data, log)."),
]
DEFAULT_DIR = Path("var/orthanc")


@app.command()
def start(
    directory: DirOption = DEFAULT_DIR,
    port: Annotated[int | None, typer.Option("--port", help="HTTP port (default: free)")] = None,
    dicom_port: Annotated[
        int | None, typer.Option("--dicom-port", help="Enable the DIMSE server on this port.")
    ] = None,
    env: Annotated[
        bool, typer.Option("--env", help='Print only export lines: eval "$(... --env)"')
    ] = False,
) -> None:
    """Start a local Orthanc (or find the one already running in --dir)."""
    handle = orthanc.start(directory, port=port, dicom_port=dicom_port)
    exports = "\n".join(f"export {k}={shlex.quote(v)}" for k, v in handle.env().items())
    if env:
        typer.echo(exports)
        return
    typer.echo(f"Orthanc running (pid {handle.pid}) at {handle.url}")
    typer.echo(f"DICOMweb:    {handle.dicomweb_url}")
    typer.echo(f"credentials: {handle.credentials_path} (mode 0600, user {handle.username})")
    typer.echo(f"log:         {handle.log_path}")
    typer.echo("to point ichsilent at it:")
    typer.echo(exports)


@app.command()
def stop(directory: DirOption = DEFAULT_DIR) -> None:
    """Stop the local Orthanc of --dir (data stay; nothing happens if none runs)."""
    if orthanc.stop(directory):
        typer.echo(f"Orthanc in {directory} stopped")
    else:
        typer.echo(f"no Orthanc running in {directory}")


@app.command()
def status(directory: DirOption = DEFAULT_DIR, as_json: JsonOption = False) -> None:
    """Show whether the local Orthanc of --dir runs; exit code 1 if it does not."""
    handle = orthanc.status(directory)
    if as_json:
        print_json(
            handle.describe()
            if handle
            else {"running": False, "directory": str(directory.absolute())}
        )
    elif handle:
        typer.echo(f"running (pid {handle.pid}) at {handle.dicomweb_url}")
        typer.echo(f"credentials: {handle.credentials_path}")
    else:
        typer.echo(f"no Orthanc running in {directory}")
    if handle is None:
        raise typer.Exit(1)


@app.command("stow")
def stow_command(
    folder: Annotated[Path, typer.Argument(help="Folder whose *.dcm files are stored.")],
    url: Annotated[
        str | None,
        typer.Option("--url", help="DICOMweb root (default: the local Orthanc of --dir)."),
    ] = None,
    directory: DirOption = DEFAULT_DIR,
    batch_size: Annotated[int, typer.Option(help="Instances per request.")] = (
        stow.DEFAULT_BATCH_SIZE
    ),
    workers: Annotated[int, typer.Option(help="Concurrent requests.")] = stow.DEFAULT_WORKERS,
    allow_remote: Annotated[
        bool,
        typer.Option(
            "--allow-remote",
            help="Allow a non-loopback URL (a TEST PACS only; never a clinical one).",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """STOW-RS every *.dcm under FOLDER into the local Orthanc (loopback only by default)."""
    target, username, password = pacs_target(url, directory)
    summary = stow.stow_folder(
        target,
        folder,
        username=username,
        password=password,
        batch_size=batch_size,
        workers=workers,
        allow_remote=allow_remote,
        progress=None if not as_json else False,
    )
    if as_json:
        data = asdict(summary)
        data["failures"] = [asdict(f) for f in summary.failures]
        print_json(data)
    else:
        typer.echo(
            f"stored {summary.instances} instances of {summary.studies} studies "
            f"({summary.bytes / 1e6:.1f} MB) in {summary.seconds:.1f} s "
            f"({summary.megabytes_per_second:.1f} MB/s)"
        )
        for failure in summary.failures:
            typer.secho(f"failed: {failure.item}: {failure.reason}", fg="red", err=True)
    if summary.failures:
        raise typer.Exit(1)


def pacs_target(url: str | None, directory: Path) -> tuple[str, str | None, str | None]:
    """URL and credentials: the local Orthanc's when URL is omitted, "local" or points at it;
    otherwise the ICHSILENT_DICOMWEB_* settings."""
    local = orthanc.status(directory)
    if url is None or url == "local":
        if local is None:
            raise PacsError(
                f"no Orthanc running in {directory}; fix: ichsilent pacs start --dir {directory}"
                " (or give the DICOMweb URL)"
            )
        return local.dicomweb_url, local.username, local.password
    if local is not None and _same_server(url, local.dicomweb_url):
        return url, local.username, local.password
    settings = load_settings()
    password = settings.dicomweb_password.get_secret_value() if settings.dicomweb_password else None
    return url, settings.dicomweb_username, password


def _same_server(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    local_names = {"127.0.0.1", "localhost", "::1"}
    same_host = pa.hostname == pb.hostname or {pa.hostname, pb.hostname} <= local_names
    return same_host and pa.port == pb.port
