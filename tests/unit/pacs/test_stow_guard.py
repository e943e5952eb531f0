"""The STOW guard: ichsilent writes only to a loopback (demo/test) PACS unless told otherwise."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from ichsilent.errors import PacsError
from ichsilent.pacs.stow import ensure_local_target, make_session, stow_instances


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8042/dicom-web",
        "http://127.8.9.10/dicom-web",
        "http://localhost:8042/dicom-web",
        "http://LOCALHOST./dicom-web",
        "https://[::1]:8043/dicom-web",
    ],
)
def test_loopback_targets_are_accepted(url: str) -> None:
    ensure_local_target(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://pacs.hospital.example/dicom-web",
        "http://10.0.0.5:8042/dicom-web",
        "http://[2001:db8::1]/dicom-web",
        "http://127.0.0.1.nip.io/dicom-web",
        "http://0.0.0.0:8042/dicom-web",
    ],
)
def test_remote_targets_are_refused(url: str) -> None:
    with pytest.raises(PacsError, match=r"refusing to STOW .*allow_remote=True"):
        ensure_local_target(url)


def test_remote_target_allowed_explicitly_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="ichsilent.pacs.stow"):
        ensure_local_target("https://testpacs.example/dicom-web", allow_remote=True)
    assert "allowed explicitly" in caplog.text


@pytest.mark.parametrize("url", ["file:///tmp/dicom", "/tmp/dicom", "ftp://127.0.0.1/x"])
def test_non_http_targets_are_refused(url: str) -> None:
    with pytest.raises(PacsError, match="expected http"):
        ensure_local_target(url)


def test_stow_checks_the_target_before_reading_anything() -> None:
    with pytest.raises(PacsError, match="never to a clinical PACS"):
        stow_instances("https://pacs.hospital.example/dicom-web", ["/does/not/exist.dcm"])


def test_session_auth() -> None:
    basic = make_session("http://127.0.0.1:1/dicom-web", username="u", password="p")
    assert basic.auth == ("u", "p")
    assert basic.trust_env is False
    bearer = make_session("https://pacs.example/dicom-web", token="t")
    assert bearer.headers["Authorization"] == "Bearer t"
    assert bearer.trust_env is True
    with pytest.raises(PacsError, match="not both"):
        make_session("http://127.0.0.1/dicom-web", username="u", token="t")


def test_unreachable_server_is_retried_then_reported(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPInstanceUID, ds.StudyInstanceUID = "1.2.3.4", "1.2.3"
    summary = stow_instances(
        f"http://127.0.0.1:{port}/dicom-web", [ds], retries=2, backoff=0.01, progress=True
    )
    assert summary.instances == 0
    assert [f.item for f in summary.failures] == ["1.2.3.4"]
    assert "batch 1 failed: ConnectionError" in summary.failures[0].reason


def test_dataset_without_file_meta_is_reported_with_the_fix() -> None:
    ds = Dataset()
    ds.SOPInstanceUID = "1.2.3.5"
    summary = stow_instances("http://127.0.0.1:9/dicom-web", [ds])
    assert summary.failures[0].item == "1.2.3.5"
    assert "TransferSyntaxUID (0002,0010)" in summary.failures[0].reason
