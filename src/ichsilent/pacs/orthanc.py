"""A local Orthanc (Debian packages ``orthanc`` + ``orthanc-dicomweb``) for the demo and tests.

We never use the Debian service: ``start()`` writes its own ``orthanc.json`` under a
directory and runs ``/usr/sbin/Orthanc`` in its own process group. Layout of the directory::

    orthanc.json       generated configuration (0600: it holds the registered user)
    credentials.json   {"username", "password"} (0600), reused across restarts
    orthanc.pid        pid of the running server (also its process-group id)
    orthanc.log        stdout + stderr of the server
    storage/, index/   DICOM files and the SQLite index; kept by stop(), reused by start()

Exposure: Orthanc 1.10 cannot bind its HTTP server to one address, so it listens on all
interfaces; ``RemoteAccessAllowed: false`` makes it refuse every client that is not on
the loopback interface, and HTTP basic authentication is always on. The DIMSE (DICOM)
server is off unless a ``dicom_port`` is asked for.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from ichsilent.errors import PacsError

log = logging.getLogger(__name__)

ORTHANC_BINARY = Path("/usr/sbin/Orthanc")
DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
INSTALL_FIX = "apt-get install -y orthanc orthanc-dicomweb"
DICOMWEB_ROOT = "/dicom-web/"
USERNAME = "ichsilent"

CONFIG_FILE = "orthanc.json"
CREDENTIALS_FILE = "credentials.json"
PID_FILE = "orthanc.pid"
LOG_FILE = "orthanc.log"

# Popen objects of servers started by this process, so that stop() can reap them
# (no zombies, no "subprocess still running" ResourceWarning).
_children: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class OrthancHandle:
    """How to reach one running local Orthanc."""

    url: str
    dicomweb_url: str
    username: str
    password: str = field(repr=False)
    pid: int
    directory: Path
    config_path: Path
    http_port: int
    dicom_port: int | None = None

    @property
    def auth(self) -> tuple[str, str]:
        return (self.username, self.password)

    @property
    def credentials_path(self) -> Path:
        return self.directory / CREDENTIALS_FILE

    @property
    def log_path(self) -> Path:
        return self.directory / LOG_FILE

    def session(self) -> requests.Session:
        """A requests session with the credentials and no proxy (the server is loopback)."""
        session = requests.Session()
        session.auth = self.auth
        session.trust_env = False
        return session

    def env(self) -> dict[str, str]:
        """The ICHSILENT_* variables that point ichsilent at this Orthanc."""
        return {
            "ICHSILENT_DICOMWEB_URL": self.dicomweb_url,
            "ICHSILENT_DICOMWEB_USERNAME": self.username,
            "ICHSILENT_DICOMWEB_PASSWORD": self.password,
        }

    def describe(self) -> dict[str, Any]:
        """JSON-friendly description without the password."""
        return {
            "running": True,
            "url": self.url,
            "dicomweb_url": self.dicomweb_url,
            "username": self.username,
            "credentials_file": str(self.credentials_path),
            "pid": self.pid,
            "http_port": self.http_port,
            "dicom_port": self.dicom_port,
            "directory": str(self.directory),
            "config": str(self.config_path),
            "log": str(self.log_path),
        }


def start(
    directory: Path,
    port: int | None = None,
    dicom_port: int | None = None,
    timeout: float = 30.0,
    *,
    binary: Path = ORTHANC_BINARY,
    plugin: Path = DICOMWEB_PLUGIN,
) -> OrthancHandle:
    """Start (or find already running) a local Orthanc whose state lives in ``directory``."""
    directory = Path(directory).absolute()
    _check_installed(binary, plugin)
    running = _existing(directory, timeout)
    if running is not None:
        if port is not None and port != running.http_port:
            raise PacsError(
                f"Orthanc in {directory} already runs on port {running.http_port}, "
                f"not the requested {port}; stop it first (ichsilent pacs stop --dir {directory})"
            )
        log.info("Orthanc already running in %s (pid %d)", directory, running.pid)
        return running

    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    username, password = _credentials(directory)
    previous = _read_config(directory)
    http_port = port or _reusable_port(previous.get("HttpPort")) or _free_port()
    config = _config(directory, username, password, http_port, dicom_port, plugin)
    config_path = directory / CONFIG_FILE
    _write_private(config_path, json.dumps(config, indent=2))

    log_path = directory / LOG_FILE
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            [str(binary), str(config_path)],
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    _children[process.pid] = process
    (directory / PID_FILE).write_text(f"{process.pid}\n", encoding="ascii")
    handle = OrthancHandle(
        url=f"http://127.0.0.1:{http_port}",
        dicomweb_url=f"http://127.0.0.1:{http_port}{DICOMWEB_ROOT.rstrip('/')}",
        username=username,
        password=password,
        pid=process.pid,
        directory=directory,
        config_path=config_path,
        http_port=http_port,
        dicom_port=dicom_port,
    )
    log.info("starting Orthanc pid %d on %s (state in %s)", process.pid, handle.url, directory)
    try:
        _wait_healthy(handle, timeout, process)
    except PacsError:
        stop(directory)
        raise
    return handle


def stop(directory: Path, timeout: float = 15.0) -> bool:
    """Stop the Orthanc of ``directory``; True if one was running. Never fails if none is."""
    directory = Path(directory).absolute()
    pid_path = directory / PID_FILE
    pid = _read_pid(pid_path)
    if pid is None or not _alive(pid):
        pid_path.unlink(missing_ok=True)
        return False
    log.info("stopping Orthanc pid %d (%s)", pid, directory)
    _signal_group(pid, signal.SIGTERM)
    if not _wait_gone(pid, timeout):
        log.warning("Orthanc pid %d ignored SIGTERM for %.0f s; sending SIGKILL", pid, timeout)
        _signal_group(pid, signal.SIGKILL)
        _wait_gone(pid, 5.0)
    pid_path.unlink(missing_ok=True)
    _children.pop(pid, None)
    return True


def status(directory: Path) -> OrthancHandle | None:
    """The handle of the healthy Orthanc running in ``directory``, else None."""
    directory = Path(directory).absolute()
    pid = _read_pid(directory / PID_FILE)
    if pid is None or not _alive(pid):
        return None
    handle = _handle_from_files(directory, pid)
    if handle is None or not _healthy(handle):
        return None
    return handle


@contextlib.contextmanager
def running_orthanc(directory: Path, port: int | None = None) -> Iterator[OrthancHandle]:
    """Start an Orthanc for the duration of a ``with`` block (tests, benchmarks)."""
    handle = start(directory, port=port)
    try:
        yield handle
    finally:
        stop(directory)


def _check_installed(binary: Path, plugin: Path) -> None:
    if not binary.exists():
        raise PacsError(f"Orthanc is not installed ({binary} not found); fix: {INSTALL_FIX}")
    if not plugin.exists():
        raise PacsError(
            f"the Orthanc DICOMweb plugin is not installed ({plugin} not found); fix: {INSTALL_FIX}"
        )


def _existing(directory: Path, timeout: float) -> OrthancHandle | None:
    """A healthy server from an earlier start; waits for one still starting up."""
    pid_path = directory / PID_FILE
    pid = _read_pid(pid_path)
    if pid is None:
        return None
    if not _alive(pid):
        log.info("removing stale pid file %s (pid %d is gone)", pid_path, pid)
        pid_path.unlink(missing_ok=True)
        return None
    handle = _handle_from_files(directory, pid)
    if handle is None:
        raise PacsError(
            f"pid {pid} in {pid_path} runs but {directory / CONFIG_FILE} or "
            f"{directory / CREDENTIALS_FILE} is missing; fix: ichsilent pacs stop --dir {directory}"
        )
    _wait_healthy(handle, timeout, None)
    return handle


def _config(
    directory: Path,
    username: str,
    password: str,
    http_port: int,
    dicom_port: int | None,
    plugin: Path,
) -> dict[str, Any]:
    return {
        "Name": "ichsilent-local",
        "StorageDirectory": str(directory / "storage"),
        "IndexDirectory": str(directory / "index"),
        "StorageCompression": False,
        "MaximumStorageSize": 0,
        "MaximumPatientCount": 0,
        "Plugins": [str(plugin)],
        "HttpServerEnabled": True,
        "HttpPort": http_port,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": True,
        "RegisteredUsers": {username: password},
        "HttpDescribeErrors": True,
        "HttpCompressionEnabled": False,  # loopback: gzip only costs CPU
        "KeepAlive": True,
        "TcpNoDelay": True,
        "HttpThreadsCount": 16,
        "HttpTimeout": 60,
        "HttpRequestTimeout": 120,
        "DicomServerEnabled": dicom_port is not None,
        "DicomPort": dicom_port or 4242,
        "DicomAet": "ICHSILENT",
        "StableAge": 2,
        "OverwriteInstances": True,  # re-stowing the same files is idempotent
        "SyncStorageArea": False,  # demo/test data: no fsync per instance
        "SaveJobs": False,
        "ConcurrentJobs": 2,
        "ExecuteLuaEnabled": False,
        "RestApiWriteToFileSystemEnabled": False,
        "DicomWeb": {
            "Enable": True,
            "Root": DICOMWEB_ROOT,
            "EnableWado": True,
            "WadoRoot": "/wado",
            "Ssl": False,
            "StudiesMetadata": "Full",
            "SeriesMetadata": "Full",
        },
    }


def _credentials(directory: Path) -> tuple[str, str]:
    path = directory / CREDENTIALS_FILE
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        os.chmod(path, 0o600)
        return str(data["username"]), str(data["password"])
    password = secrets.token_urlsafe(24)
    _write_private(path, json.dumps({"username": USERNAME, "password": password}, indent=2))
    return USERNAME, password


def _write_private(path: Path, text: str) -> None:
    """Write a 0600 file atomically (never world-readable, not even for a moment)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _read_config(directory: Path) -> dict[str, Any]:
    try:
        data = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _handle_from_files(directory: Path, pid: int) -> OrthancHandle | None:
    config = _read_config(directory)
    credentials_path = directory / CREDENTIALS_FILE
    if "HttpPort" not in config or not credentials_path.exists():
        return None
    credentials = json.loads(credentials_path.read_text(encoding="utf-8"))
    http_port = int(config["HttpPort"])
    return OrthancHandle(
        url=f"http://127.0.0.1:{http_port}",
        dicomweb_url=f"http://127.0.0.1:{http_port}{DICOMWEB_ROOT.rstrip('/')}",
        username=str(credentials["username"]),
        password=str(credentials["password"]),
        pid=pid,
        directory=directory,
        config_path=directory / CONFIG_FILE,
        http_port=http_port,
        dicom_port=int(config["DicomPort"]) if config.get("DicomServerEnabled") else None,
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("", 0))  # Orthanc listens on all interfaces: the port must be free on all
        return int(sock.getsockname()[1])


def _reusable_port(port: object) -> int | None:
    """The port of the previous run, if still free (keeps exported URLs valid)."""
    if not isinstance(port, int):
        return None
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("", port))
        except OSError:
            return None
    return port


def _healthy(handle: OrthancHandle) -> bool:
    try:
        with handle.session() as session:
            response = session.get(f"{handle.url}/system", timeout=2.0)
            return response.status_code == 200 and "Version" in response.json()
    except (requests.RequestException, ValueError):
        return False


def _wait_healthy(
    handle: OrthancHandle, timeout: float, process: subprocess.Popen[bytes] | None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _healthy(handle):
            _check_dicomweb(handle)
            log.info("Orthanc ready at %s (pid %d)", handle.url, handle.pid)
            return
        if process is not None and process.poll() is not None:
            raise PacsError(
                f"Orthanc exited with code {process.returncode} while starting "
                f"(config {handle.config_path}); last lines of {handle.log_path}:\n"
                f"{_log_tail(handle.log_path)}"
            )
        if process is None and not _alive(handle.pid):
            raise PacsError(f"Orthanc pid {handle.pid} died; see {handle.log_path}")
        time.sleep(0.1)
    raise PacsError(
        f"Orthanc did not answer GET {handle.url}/system within {timeout:.0f} s; "
        f"last lines of {handle.log_path}:\n{_log_tail(handle.log_path)}"
    )


def _check_dicomweb(handle: OrthancHandle) -> None:
    with handle.session() as session:
        response = session.get(f"{handle.url}/plugins", timeout=5.0)
    if response.status_code != 200 or "dicom-web" not in response.json():
        raise PacsError(
            f"Orthanc at {handle.url} runs without the DICOMweb plugin "
            f"(GET /plugins -> {response.status_code} {response.text[:200]!r}); "
            f"fix: {INSTALL_FIX}; log: {handle.log_path}"
        )


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text(encoding="ascii").strip())
    except (FileNotFoundError, ValueError):
        return None


def _alive(pid: int) -> bool:
    """True if ``pid`` is a live Orthanc (reaps our own exited children; ignores pid reuse)."""
    child = _children.get(pid)
    if child is not None and child.poll() is not None:
        _children.pop(pid, None)
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # someone else's process reusing the pid
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return False
    if stat.rsplit(")", 1)[-1].split()[0] == "Z":  # zombie: exited, not reaped by its parent
        return False
    return b"Orthanc" in cmdline


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    child = _children.get(pid)
    while time.monotonic() < deadline:
        if child is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=0.1)
            if child.returncode is not None:
                return True
        elif not _alive(pid):
            return True
        else:
            time.sleep(0.1)
    return False
