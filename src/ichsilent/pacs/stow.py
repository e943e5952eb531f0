"""STOW-RS into the LOCAL demo/test PACS — the only place where ichsilent writes to a PACS.

Silent mode never sends anything to a clinical PACS. This module fills the local Orthanc
(:mod:`ichsilent.pacs.orthanc`) with simulated studies, so :func:`stow_instances` refuses
every URL whose host is not loopback (127.0.0.0/8, ::1, ``localhost``) unless the caller
passes ``allow_remote=True`` on purpose (for example a vendor's test PACS).

Instances go in batches (at most ``batch_size`` instances or ``batch_bytes`` bytes) through
dicomweb-client's ``DICOMwebClient.store_instances``; ``workers`` batches run concurrently.
Connection errors, time-outs, 408/429 and 5xx are retried with exponential back-off; other
errors and per-instance failures (``FailedSOPSequence``) are collected, not raised.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pydicom
import requests
from dicomweb_client.api import DICOMwebClient
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from rich.console import Console

from ichsilent.errors import PacsError

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 32
DEFAULT_BATCH_BYTES = 32 * 1024 * 1024
DEFAULT_WORKERS = 2
RETRIABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})

Item = Path | str | Dataset


@dataclass(frozen=True)
class StowFailure:
    """One instance (or a whole batch) that was not stored, and why."""

    batch: int
    item: str  # file path or SOP Instance UID
    reason: str
    status: int | None = None


@dataclass(frozen=True)
class StowSummary:
    """What one stow run did."""

    instances: int
    studies: int
    bytes: int
    seconds: float
    batches: int
    failures: tuple[StowFailure, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def megabytes_per_second(self) -> float:
        return self.bytes / 1e6 / self.seconds if self.seconds > 0 else 0.0

    @property
    def instances_per_second(self) -> float:
        return self.instances / self.seconds if self.seconds > 0 else 0.0


@dataclass
class _Batch:
    number: int
    datasets: list[Dataset] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    size: int = 0


@dataclass(frozen=True)
class _BatchResult:
    stored: int
    studies: frozenset[str]
    size: int
    failures: tuple[StowFailure, ...]


def ensure_local_target(url: str, allow_remote: bool = False) -> None:
    """Raise PacsError unless ``url`` is an http(s) URL on a loopback host (or allowed)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PacsError(
            f"STOW URL {url!r}: expected http(s)://HOST[:PORT]/ROOT, "
            "e.g. http://127.0.0.1:8042/dicom-web"
        )
    if _is_loopback(parts.hostname):
        return
    if allow_remote:
        log.warning("STOW to non-loopback host %s: allowed explicitly (allow_remote=True)", url)
        return
    raise PacsError(
        f"refusing to STOW to {parts.hostname!r} ({url}): ichsilent writes only to the local "
        "demo/test Orthanc (127.0.0.0/8, ::1, localhost) and never to a clinical PACS. "
        "If this is a test PACS, pass allow_remote=True (CLI: --allow-remote)."
    )


def _is_loopback(host: str) -> bool:
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def make_session(
    url: str,
    *,
    username: str | None = None,
    password: str | None = None,
    token: str | None = None,
    verify: bool = True,
) -> requests.Session:
    """A requests session carrying basic or bearer authentication."""
    if token and (username or password):
        raise PacsError("give either username/password or a bearer token, not both")
    session = requests.Session()
    session.verify = verify
    if username is not None:
        session.auth = (username, password or "")
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    hostname = urlsplit(url).hostname
    if hostname and _is_loopback(hostname):
        session.trust_env = False  # no proxy for loopback
    return session


def stow_instances(
    dicomweb_url: str,
    items: Iterable[Item],
    *,
    username: str | None = None,
    password: str | None = None,
    token: str | None = None,
    session_factory: Callable[[], requests.Session] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
    workers: int = DEFAULT_WORKERS,
    timeout: float = 120.0,
    retries: int = 4,
    backoff: float = 0.5,
    progress: bool | None = None,
    allow_remote: bool = False,
    verify: bool = True,
) -> StowSummary:
    """Store DICOM files or datasets with STOW-RS; return what was stored and what failed.

    ``items`` may mix file paths and pydicom datasets (datasets need ``file_meta``).
    ``progress`` None shows a rich progress bar only when stderr is a terminal.
    """
    ensure_local_target(dicomweb_url, allow_remote)
    if batch_size < 1 or batch_bytes < 1 or workers < 1:
        raise PacsError(
            f"batch_size={batch_size}, batch_bytes={batch_bytes}, workers={workers}: "
            "each must be at least 1"
        )
    items = list(items) if not isinstance(items, Sequence) else items
    local = threading.local()

    def client() -> DICOMwebClient:
        if not hasattr(local, "client"):
            session = (
                session_factory()
                if session_factory
                else make_session(
                    dicomweb_url, username=username, password=password, token=token, verify=verify
                )
            )
            web = DICOMwebClient(dicomweb_url, session=session, timeout=timeout, chunk_size=1 << 30)
            web.set_http_retry_params(retry=False)  # we retry ourselves, 5xx included
            local.client = web
        web_client: DICOMwebClient = local.client
        return web_client

    def send(batch: _Batch) -> _BatchResult:
        return _send_batch(client, batch, retries, backoff)

    started = time.perf_counter()
    results: list[_BatchResult] = []
    read_failures: list[StowFailure] = []
    batches = _batches(items, batch_size, batch_bytes, read_failures)
    with _progress(progress, len(items)) as advance, ThreadPoolExecutor(workers) as pool:
        pending: set[Future[_BatchResult]] = set()
        for batch in batches:
            pending.add(pool.submit(send, batch))
            while len(pending) >= 2 * workers:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                _collect(done, results, advance)
        done, _ = wait(pending)
        _collect(done, results, advance)
    seconds = time.perf_counter() - started
    failures = tuple(read_failures) + tuple(f for r in results for f in r.failures)
    summary = StowSummary(
        instances=sum(r.stored for r in results),
        studies=len(frozenset().union(*(r.studies for r in results))),
        bytes=sum(r.size for r in results),
        seconds=seconds,
        batches=len(results),
        failures=failures,
    )
    log.info(
        "stowed %d instances of %d studies (%.1f MB, %.1f MB/s) in %d batches; %d failures",
        summary.instances,
        summary.studies,
        summary.bytes / 1e6,
        summary.megabytes_per_second,
        summary.batches,
        len(failures),
    )
    return summary


def stow_folder(
    dicomweb_url: str,
    folder: Path,
    *,
    pattern: str = "*.dcm",
    allow_remote: bool = False,
    **options: object,
) -> StowSummary:
    """Stow every file matching ``pattern`` under ``folder`` (recursively, sorted)."""
    ensure_local_target(dicomweb_url, allow_remote)
    folder = Path(folder)
    if not folder.is_dir():
        raise PacsError(f"stow folder {folder}: not a directory")
    paths = sorted(p for p in folder.rglob(pattern) if p.is_file())
    if not paths:
        log.warning("no files matching %s under %s", pattern, folder)
    return stow_instances(
        dicomweb_url,
        paths,
        allow_remote=allow_remote,
        **options,  # type: ignore[arg-type]
    )


def _batches(
    items: Iterable[Item], batch_size: int, batch_bytes: int, failures: list[StowFailure]
) -> Iterator[_Batch]:
    batch = _Batch(number=1)
    for item in items:
        loaded = _load(item, batch.number, failures)
        if loaded is None:
            continue
        dataset, name, size = loaded
        if batch.datasets and (
            len(batch.datasets) >= batch_size or batch.size + size > batch_bytes
        ):
            yield batch
            batch = _Batch(number=batch.number + 1)
        batch.datasets.append(dataset)
        batch.names.append(name)
        batch.size += size
    if batch.datasets:
        yield batch


def _load(item: Item, batch: int, failures: list[StowFailure]) -> tuple[Dataset, str, int] | None:
    if isinstance(item, Dataset):
        name = str(getattr(item, "SOPInstanceUID", "<dataset without SOPInstanceUID>"))
        meta = getattr(item, "file_meta", None)
        if meta is None or "TransferSyntaxUID" not in meta:
            failures.append(
                StowFailure(
                    batch,
                    name,
                    "dataset has no file_meta.TransferSyntaxUID (0002,0010); "
                    "fix: set ds.file_meta = FileMetaDataset() with TransferSyntaxUID",
                )
            )
            return None
        pixels = item.get("PixelData")
        return item, name, len(pixels) if isinstance(pixels, bytes) else 4096
    path = Path(item)
    try:
        return pydicom.dcmread(path), str(path), path.stat().st_size
    except (InvalidDicomError, OSError, ValueError, EOFError) as exc:
        failures.append(StowFailure(batch, str(path), f"not readable as DICOM: {exc}"))
        return None


def _send_batch(
    client: Callable[[], DICOMwebClient], batch: _Batch, retries: int, backoff: float
) -> _BatchResult:
    attempt = 0
    while True:
        try:
            response = client().store_instances(batch.datasets)
            return _result(batch, response)
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else None
            message = _server_message(exc.response)
            if status in RETRIABLE_STATUS and attempt < retries:
                reason = f"HTTP {status}: {message}"
            else:
                return _failed(batch, f"HTTP {status}: {message}", status)
        except (requests.ConnectionError, requests.Timeout) as exc:
            if attempt >= retries:
                return _failed(batch, f"{type(exc).__name__}: {exc}", None)
            reason = f"{type(exc).__name__}: {exc}"
        delay = backoff * 2**attempt
        attempt += 1
        log.warning(
            "batch %d (%d instances) failed (%s); retry %d/%d in %.1f s",
            batch.number,
            len(batch.datasets),
            reason,
            attempt,
            retries,
            delay,
        )
        time.sleep(delay)


def _result(batch: _Batch, response: Dataset) -> _BatchResult:
    by_uid = {
        str(ds.SOPInstanceUID): (ds, name)
        for ds, name in zip(batch.datasets, batch.names, strict=True)
    }
    failures = []
    failed_uids: set[str] = set()
    for item in response.get("FailedSOPSequence", []):
        uid = str(item.get("ReferencedSOPInstanceUID", "?"))
        failed_uids.add(uid)
        name = by_uid[uid][1] if uid in by_uid else uid
        code = item.get("FailureReason", "?")
        failures.append(
            StowFailure(batch.number, name, f"server refused the instance (FailureReason {code})")
        )
    stored = [ds for uid, (ds, _) in by_uid.items() if uid not in failed_uids]
    studies = frozenset(str(ds.StudyInstanceUID) for ds in stored if "StudyInstanceUID" in ds)
    if failures:
        log.error("batch %d: %d of %d instances refused", batch.number, len(failures), len(by_uid))
    return _BatchResult(len(stored), studies, batch.size, tuple(failures))


def _failed(batch: _Batch, reason: str, status: int | None) -> _BatchResult:
    log.error(
        "batch %d (%d instances, first %s) failed: %s",
        batch.number,
        len(batch.names),
        batch.names[0],
        reason,
    )
    failures = tuple(
        StowFailure(batch.number, name, f"batch {batch.number} failed: {reason}", status)
        for name in batch.names
    )
    return _BatchResult(0, frozenset(), 0, failures)


def _server_message(response: requests.Response | None) -> str:
    if response is None:
        return "no response"
    try:
        body = response.json()
    except ValueError:
        return response.text[:500] or response.reason
    if isinstance(body, dict):
        parts = [str(body[key]) for key in ("Message", "Details") if body.get(key)]
        if parts:
            return "; ".join(parts)
    return str(body)[:500]


def _collect(
    done: Iterable[Future[_BatchResult]],
    results: list[_BatchResult],
    advance: Callable[[int], None],
) -> None:
    for future in done:
        result = future.result()
        results.append(result)
        advance(result.stored + len(result.failures))


@contextlib.contextmanager
def _progress(enabled: bool | None, total: int) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n)``; draw a rich bar only when a person is watching (stderr a TTY)."""
    if not (sys.stderr.isatty() if enabled is None else enabled):
        yield lambda n: None
        return
    from rich.progress import Progress

    with Progress(console=Console(stderr=True)) as bar:
        task = bar.add_task("STOW-RS", total=total or None)
        yield lambda n: bar.advance(task, n)
