"""The ingestion client is read-only, and its folder twin serves simulated DICOM."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ichsilent.config import load_settings
from ichsilent.errors import PacsError
from ichsilent.ingest.client import (
    DicomWebPacsClient,
    FolderPacsClient,
    PacsClient,
    open_pacs_client,
)
from ichsilent.simulate.hospital import simulate


@pytest.fixture(scope="module")
def hospital(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hospital")
    simulate(out, 1, 6, 5, matrix=64, workers=1)
    return out


@pytest.mark.parametrize(
    "client",
    [
        DicomWebPacsClient("https://pacs.example.org/dicom-web", token="t"),
        DicomWebPacsClient("http://127.0.0.1:8042/dicom-web", username="u", password="p"),
    ],
)
def test_dicomweb_client_is_read_only(client: DicomWebPacsClient) -> None:
    assert isinstance(client, PacsClient)
    for name in ("store_instances", "delete_study", "delete_series", "delete_instance"):
        assert not hasattr(client, name)
        with pytest.raises(AttributeError):
            getattr(client, name)
    assert "@" not in client.description


def test_folder_client_is_read_only_and_serves_simulated_studies(hospital: Path) -> None:
    client = open_pacs_client(hospital / "dicom")
    assert isinstance(client, FolderPacsClient)
    for name in ("store_instances", "delete_study", "delete_series", "delete_instance"):
        assert not hasattr(client, name)
    truth = [json.loads(line) for line in (hospital / "truth.jsonl").open()]
    studies = client.search_for_studies(search_filters={}, limit=100, offset=0)
    assert {s["0020000D"]["Value"][0] for s in studies} == {t["study_uid"] for t in truth}
    first = truth[0]
    soft = next(s for s in first["series"] if s["kind"] == "axial_soft")
    series = client.search_for_series(first["study_uid"])
    assert soft["series_uid"] in {s["0020000E"]["Value"][0] for s in series}
    metadata = client.retrieve_series_metadata(first["study_uid"], soft["series_uid"])
    assert len(metadata) == soft["instances"]
    datasets = client.retrieve_series(first["study_uid"], soft["series_uid"])
    assert len(datasets) == soft["instances"]
    assert {str(ds.SeriesInstanceUID) for ds in datasets} == {soft["series_uid"]}


def test_open_pacs_client_by_scheme(tmp_path: Path) -> None:
    assert isinstance(open_pacs_client(tmp_path.as_uri()), FolderPacsClient)
    assert isinstance(open_pacs_client("https://pacs.example.org/dicom-web"), DicomWebPacsClient)
    settings = load_settings(dicomweb_url="http://127.0.0.1:1/dicom-web", dicomweb_username="u")
    assert isinstance(open_pacs_client(settings), DicomWebPacsClient)
    with pytest.raises(PacsError, match="scheme 'ftp'"):
        open_pacs_client("ftp://pacs/")
    with pytest.raises(PacsError, match="does not exist"):
        open_pacs_client(tmp_path / "missing")
    with pytest.raises(PacsError, match="one of them"):
        DicomWebPacsClient("https://pacs.example.org/dicom-web", username="u", token="t")


def test_unreachable_pacs_is_a_pacs_error() -> None:
    client = DicomWebPacsClient(
        "http://127.0.0.1:9/dicom-web", timeout_seconds=1, retries=1
    )  # port 9 (discard): connection refused
    with pytest.raises(PacsError, match="unreachable"):
        client.search_for_series("1.2.3")
