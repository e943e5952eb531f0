"""Read-only PACS access: a ``PacsClient`` protocol and its two real implementations.

* :class:`DicomWebPacsClient` wraps dicomweb-client's ``DICOMwebClient`` (http/https):
  basic or bearer authentication, TLS verification, explicit timeouts, and retries with
  exponential back-off on connection errors, read time-outs, 429 and 5xx (urllib3 ``Retry``
  on a requests ``HTTPAdapter``; ``Retry-After`` is honoured).
* :class:`FolderPacsClient` wraps its ``DICOMfileClient`` for a folder of DICOM files
  (``file:///path`` or a plain path): the real local twin used by tests and demos.

Silent mode never writes to a PACS: neither class exposes STOW or DELETE, and the wrapped
dicomweb-client object is private (no ``__getattr__`` forwarding). Transport failures become
:class:`~ichsilent.errors.PacsError` naming the URL, the call and the fix.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

import requests
from dicomweb_client.api import DICOMfileClient, DICOMwebClient
from pydicom.dataset import Dataset
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ichsilent.config import Settings
from ichsilent.errors import PacsError

log = logging.getLogger(__name__)

DicomJson = dict[str, Any]
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
DEFAULT_RETRIES = 4
DEFAULT_BACKOFF_SECONDS = 0.5
STUDY_FIELDS = (
    "StudyInstanceUID",
    "StudyDate",
    "StudyTime",
    "StudyDescription",
    "ModalitiesInStudy",
    "AccessionNumber",
    "PatientID",
    "PatientSex",
    "PatientAge",
    "PatientBirthDate",
    "NumberOfStudyRelatedInstances",
)


@runtime_checkable
class PacsClient(Protocol):
    """What ingestion needs from a PACS: QIDO-RS searches and WADO-RS retrieval. Nothing else."""

    @property
    def description(self) -> str:
        """Where the client points (no credentials), for logs and the watermark's name."""
        ...

    def search_for_studies(
        self, *, search_filters: dict[str, str], limit: int, offset: int
    ) -> list[DicomJson]: ...

    def search_for_series(self, study_uid: str) -> list[DicomJson]: ...

    def retrieve_series_metadata(self, study_uid: str, series_uid: str) -> list[DicomJson]: ...

    def retrieve_series(self, study_uid: str, series_uid: str) -> list[Dataset]: ...


@contextmanager
def _translated(where: str, call: str) -> Iterator[None]:
    """requests/dicomweb-client failures as PacsError (retryable: the study goes FAILED)."""
    try:
        yield
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        raise PacsError(
            f"{call} on {where} failed with HTTP {status}; expected 2xx "
            "(check the PACS, the credentials ICHSILENT_DICOMWEB_* and the URL)"
        ) from exc
    except requests.RequestException as exc:
        raise PacsError(
            f"{call} on {where} failed: {exc.__class__.__name__}: {exc} "
            "(PACS unreachable or too slow; it is retried on the next run)"
        ) from exc


def _retrying_session(
    *,
    username: str | None,
    password: str | None,
    token: str | None,
    verify: bool,
    retries: int,
    backoff_seconds: float,
) -> requests.Session:
    if token and username:
        raise PacsError(
            "DICOMweb credentials: both ICHSILENT_DICOMWEB_USERNAME and ICHSILENT_DICOMWEB_TOKEN "
            "are set; expected one of them (basic or bearer authentication)"
        )
    session = requests.Session()
    session.verify = verify
    if username:
        session.auth = (username, password or "")
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    retry = Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        backoff_factor=backoff_seconds,
        status_forcelist=sorted(RETRY_STATUS),
        allowed_methods=frozenset({"GET", "HEAD"}),
        respect_retry_after_header=True,
        raise_on_status=False,  # the last response reaches raise_for_status -> PacsError
    )
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class DicomWebPacsClient:
    """A DICOMweb PACS over http(s), read-only."""

    __slots__ = ("_client", "_url")

    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        verify_tls: bool = True,
        timeout_seconds: float = 30.0,
        retries: int = DEFAULT_RETRIES,
        backoff_seconds: float = DEFAULT_BACKOFF_SECONDS,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PacsError(
                f"DICOMweb URL {url!r}: expected http(s)://HOST[:PORT]/ROOT, "
                "e.g. https://pacs.example.org/dicom-web"
            )
        if parts.scheme == "http" and (username or token):
            log.warning("DICOMweb credentials sent over plain http to %s", parts.hostname)
        session = _retrying_session(
            username=username,
            password=password,
            token=token,
            verify=verify_tls,
            retries=retries,
            backoff_seconds=backoff_seconds,
        )
        self._url = f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}"
        self._url += parts.path
        client = DICOMwebClient(url=url, session=session, timeout=timeout_seconds)
        client.set_http_retry_params(retry=False)  # the adapter retries (and honours Retry-After)
        self._client = client

    @property
    def description(self) -> str:
        return self._url

    def search_for_studies(
        self, *, search_filters: dict[str, str], limit: int, offset: int
    ) -> list[DicomJson]:
        with _translated(self._url, "QIDO-RS search for studies"):
            found: list[DicomJson] = self._client.search_for_studies(
                fields=list(STUDY_FIELDS),
                search_filters=dict(search_filters),
                limit=limit,
                offset=offset,
            )
        return found

    def search_for_series(self, study_uid: str) -> list[DicomJson]:
        with _translated(self._url, f"QIDO-RS search for series of study {study_uid}"):
            found: list[DicomJson] = self._client.search_for_series(study_uid)
        return found

    def retrieve_series_metadata(self, study_uid: str, series_uid: str) -> list[DicomJson]:
        with _translated(self._url, f"WADO-RS metadata of series {series_uid}"):
            found: list[DicomJson] = self._client.retrieve_series_metadata(study_uid, series_uid)
        return found

    def retrieve_series(self, study_uid: str, series_uid: str) -> list[Dataset]:
        with _translated(self._url, f"WADO-RS retrieval of series {series_uid}"):
            found: list[Dataset] = self._client.retrieve_series(study_uid, series_uid)
        return found


class FolderPacsClient:
    """A folder of DICOM files searched like a PACS (dicomweb-client's DICOMfileClient).

    The index database lives in memory (nothing is written into the folder) and is built
    when the client is created: create a new client to see files added later. SQLite
    connections belong to one thread, so every call runs on this client's own thread.
    """

    __slots__ = ("_client", "_root", "_thread")

    def __init__(self, folder: str | Path) -> None:
        text = str(folder)
        path = Path(urlsplit(text).path if text.startswith("file://") else text).resolve()
        if not path.is_dir():
            raise PacsError(
                f"DICOM folder {path} does not exist or is not a directory; expected a folder "
                "of DICOM files (e.g. the dicom/ folder written by `ichsilent simulate`)"
            )
        self._root = path
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dicom-folder")
        self._client: DICOMfileClient = self._thread.submit(
            DICOMfileClient, url=path.as_uri(), in_memory=True, readonly=True
        ).result()

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self._thread.submit(getattr(self._client, name), *args, **kwargs).result()

    @property
    def description(self) -> str:
        return self._root.as_uri()

    def search_for_studies(
        self, *, search_filters: dict[str, str], limit: int, offset: int
    ) -> list[DicomJson]:
        # DICOMfileClient matches dates exactly only: date ranges are filtered by the caller.
        filters = {k: v for k, v in search_filters.items() if k not in ("StudyDate", "StudyTime")}
        found: list[DicomJson] = self._call(
            "search_for_studies", search_filters=filters, limit=limit, offset=offset
        )
        return found

    def search_for_series(self, study_uid: str) -> list[DicomJson]:
        found: list[DicomJson] = self._call("search_for_series", study_uid)
        return found

    def retrieve_series_metadata(self, study_uid: str, series_uid: str) -> list[DicomJson]:
        found: list[DicomJson] = self._call("retrieve_series_metadata", study_uid, series_uid)
        return found

    def retrieve_series(self, study_uid: str, series_uid: str) -> list[Dataset]:
        found: list[Dataset] = self._call("retrieve_series", study_uid, series_uid)
        return found


def open_pacs_client(
    source: Settings | str | Path,
    *,
    username: str | None = None,
    password: str | None = None,
    token: str | None = None,
    verify_tls: bool = True,
    timeout_seconds: float = 30.0,
    retries: int = DEFAULT_RETRIES,
) -> PacsClient:
    """A client for ``source``: Settings (ICHSILENT_DICOMWEB_*), an http(s) URL or a folder.

    With Settings every connection option comes from them; keyword arguments are used only
    with a URL or folder.
    """
    if isinstance(source, Settings):
        if not source.dicomweb_url:
            raise PacsError(
                "ICHSILENT_DICOMWEB_URL is not set; expected the PACS DICOMweb root "
                "(https://HOST/dicom-web) or a folder of DICOM files (--dicomweb)"
            )
        url = source.dicomweb_url
        username = source.dicomweb_username
        password = source.dicomweb_password.get_secret_value() if source.dicomweb_password else None
        token = source.dicomweb_token.get_secret_value() if source.dicomweb_token else None
        verify_tls = source.dicomweb_verify_tls
        timeout_seconds = source.dicomweb_timeout_seconds
    else:
        url = str(source)
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("http", "https"):
        return DicomWebPacsClient(
            url,
            username=username,
            password=password,
            token=token,
            verify_tls=verify_tls,
            timeout_seconds=timeout_seconds,
            retries=retries,
        )
    if scheme in ("file", ""):
        return FolderPacsClient(url)
    raise PacsError(
        f"PACS source {url!r} has scheme {scheme!r}; expected http(s)://... (DICOMweb), "
        "file:///folder or a folder path"
    )
