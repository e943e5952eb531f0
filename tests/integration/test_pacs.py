"""The local Orthanc and STOW-RS against it (real Orthanc from the Debian packages)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pydicom
import pytest
import requests
from dicomweb_client.api import DICOMwebClient

from ichsilent.errors import PacsError
from ichsilent.pacs import orthanc as local_orthanc
from ichsilent.pacs import stow_folder, stow_instances

pytestmark = pytest.mark.orthanc


def _client(handle: local_orthanc.OrthancHandle) -> DICOMwebClient:
    return DICOMwebClient(handle.dicomweb_url, session=handle.session())


def _instance_count(handle: local_orthanc.OrthancHandle) -> tuple[int, int]:
    with handle.session() as session:
        stats = session.get(f"{handle.url}/statistics", timeout=10).json()
    return int(stats["CountStudies"]), int(stats["CountInstances"])


def test_started_orthanc_is_healthy_and_private(orthanc: local_orthanc.OrthancHandle) -> None:
    assert local_orthanc.status(orthanc.directory) == orthanc
    for private in (orthanc.credentials_path, orthanc.config_path):
        assert stat.S_IMODE(private.stat().st_mode) == 0o600
    credentials = json.loads(orthanc.credentials_path.read_text())
    assert credentials == {"username": orthanc.username, "password": orthanc.password}

    anonymous = requests.Session()
    anonymous.trust_env = False
    assert anonymous.get(f"{orthanc.url}/system", timeout=5).status_code == 401
    assert anonymous.get(f"{orthanc.dicomweb_url}/studies", timeout=5).status_code == 401
    wrong = anonymous.get(f"{orthanc.url}/system", auth=(orthanc.username, "nope"), timeout=5)
    assert wrong.status_code == 401
    with orthanc.session() as session:
        assert session.get(f"{orthanc.url}/system", timeout=5).status_code == 200


def test_start_twice_returns_the_running_server(orthanc: local_orthanc.OrthancHandle) -> None:
    again = local_orthanc.start(orthanc.directory)
    assert again.pid == orthanc.pid
    assert again.dicomweb_url == orthanc.dicomweb_url


def test_stow_qido_restow_and_wado(
    orthanc: local_orthanc.OrthancHandle, make_ct_instances, tmp_path: Path
) -> None:
    paths = make_ct_instances(tmp_path / "dicom", studies=2, slices=3)
    studies_before, instances_before = _instance_count(orthanc)

    summary = stow_instances(
        orthanc.dicomweb_url, paths, username=orthanc.username, password=orthanc.password
    )
    assert summary.ok, summary.failures
    assert (summary.instances, summary.studies) == (6, 2)
    assert summary.bytes == sum(p.stat().st_size for p in paths)
    assert _instance_count(orthanc) == (studies_before + 2, instances_before + 6)

    sent = [pydicom.dcmread(p) for p in paths]
    study_uids = {ds.StudyInstanceUID for ds in sent}
    client = _client(orthanc)
    for uid in study_uids:
        found = client.search_for_studies(
            search_filters={"StudyInstanceUID": uid},
            fields=["ModalitiesInStudy", "NumberOfStudyRelatedInstances"],
        )
        assert len(found) == 1
        study = pydicom.Dataset.from_json(found[0])
        assert study.StudyInstanceUID == uid
        modalities = study.ModalitiesInStudy
        assert (modalities if isinstance(modalities, str) else list(modalities)) in ("CT", ["CT"])
        assert int(study.NumberOfStudyRelatedInstances) == 3

    again = stow_instances(
        orthanc.dicomweb_url, paths, username=orthanc.username, password=orthanc.password
    )
    assert again.ok
    assert again.instances == 6
    assert _instance_count(orthanc) == (studies_before + 2, instances_before + 6)

    first = sent[0]
    series = client.retrieve_series(first.StudyInstanceUID, first.SeriesInstanceUID)
    by_uid = {ds.SOPInstanceUID: ds for ds in series}
    expected = {
        ds.SOPInstanceUID: ds for ds in sent if ds.SeriesInstanceUID == first.SeriesInstanceUID
    }
    assert set(by_uid) == set(expected)
    for uid, ds in expected.items():
        assert (by_uid[uid].pixel_array == ds.pixel_array).all()


def test_stow_reports_unreadable_files_and_accepts_datasets(
    orthanc: local_orthanc.OrthancHandle, make_ct_instances, tmp_path: Path
) -> None:
    folder = tmp_path / "mixed"
    paths = make_ct_instances(folder, studies=1, slices=2)
    (folder / "broken.dcm").write_bytes(b"not dicom at all")
    summary = stow_folder(
        orthanc.dicomweb_url,
        folder,
        username=orthanc.username,
        password=orthanc.password,
        batch_size=1,
    )
    assert summary.instances == 2
    assert [f.item for f in summary.failures] == [str(folder / "broken.dcm")]
    assert "not readable as DICOM" in summary.failures[0].reason

    datasets = [pydicom.dcmread(p) for p in paths]
    from_memory = stow_instances(
        orthanc.dicomweb_url, datasets, username=orthanc.username, password=orthanc.password
    )
    assert from_memory.ok
    assert from_memory.instances == 2


def test_stow_names_http_status_and_batch(
    orthanc: local_orthanc.OrthancHandle, make_ct_instances, tmp_path: Path
) -> None:
    paths = make_ct_instances(tmp_path, studies=1, slices=2)
    summary = stow_instances(
        orthanc.dicomweb_url, paths, username=orthanc.username, password="wrong", retries=0
    )
    assert summary.instances == 0
    assert len(summary.failures) == 2
    assert summary.failures[0].status == 401
    assert "batch 1" in summary.failures[0].reason
    assert "HTTP 401" in summary.failures[0].reason


@pytest.mark.usefixtures("orthanc_installed")
def test_stop_then_start_keeps_data_and_credentials(make_ct_instances, tmp_path: Path) -> None:
    directory = tmp_path / "pacs"
    paths = make_ct_instances(tmp_path / "dicom", studies=1, slices=2)
    with local_orthanc.running_orthanc(directory) as first:
        summary = stow_instances(
            first.dicomweb_url, paths, username="ichsilent", password=first.password
        )
        assert summary.ok
    assert not _pid_alive(first.pid)
    assert local_orthanc.status(directory) is None
    assert not (directory / local_orthanc.PID_FILE).exists()

    second = local_orthanc.start(directory)
    try:
        assert second.pid != first.pid
        assert second.password == first.password
        assert _instance_count(second) == (1, 2)
    finally:
        assert local_orthanc.stop(directory) is True
    assert not _pid_alive(second.pid)


def test_stow_refuses_remote_without_allow_remote(tmp_path: Path) -> None:
    with pytest.raises(PacsError, match="allow_remote=True"):
        stow_instances("https://pacs.hospital.example/dicom-web", [tmp_path / "x.dcm"])
    with pytest.raises(PacsError, match="never to a clinical PACS"):
        stow_folder("http://10.1.2.3:8042/dicom-web", tmp_path)


def test_start_without_orthanc_binary_names_the_apt_fix(tmp_path: Path) -> None:
    with pytest.raises(PacsError, match="apt-get install -y orthanc orthanc-dicomweb"):
        local_orthanc.start(tmp_path / "pacs", binary=tmp_path / "no" / "Orthanc")
    assert not (tmp_path / "pacs" / local_orthanc.PID_FILE).exists()


def test_stop_when_nothing_runs_is_harmless(tmp_path: Path) -> None:
    assert local_orthanc.stop(tmp_path) is False
    assert local_orthanc.status(tmp_path) is None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] != "Z"
