from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import hl7

from ichsilent.simulate.hl7_writer import escape, oru_message
from ichsilent.simulate.reports import ReportRevisionRecord


def _record(text: str) -> ReportRevisionRecord:
    return ReportRevisionRecord(
        id="RPT-000000001", revision=1, accession="CT25000000001", study_uid="2.25.1",
        status="F", observed_at="2025-01-06T10:00:00", text=text, patient_id="99000001",
        patient_name="SYNTHWOOD^ALICE", birth_date="19500101", sex="F", patient_class="E",
        site="NORTH", exam="CT HEAD WO CONTRAST",
    )  # fmt: skip


def _unescape(value: str) -> str:
    for raw, escaped in (
        ("|", "\\F\\"),
        ("^", "\\S\\"),
        ("&", "\\T\\"),
        ("~", "\\R\\"),
        ("\\", "\\E\\"),
    ):
        value = value.replace(escaped, raw)
    return value


def test_escaping_round_trips() -> None:
    text = "FINDINGS:\nA | B ^ C & D ~ E \\ F\nIMPRESSION:\nNo acute intracranial hemorrhage."
    message = oru_message(_record(text), study_datetime="2025-01-06T09:00:00", referring="ED^DOC")
    assert "\n" not in message
    assert message.endswith("\r")
    parsed = hl7.parse(message)
    obx = parsed.segments("OBX")
    assert len(obx) == len(text.split("\n"))
    lines = [_unescape(str(seg[5])) for seg in obx]
    assert "\n".join(lines) == text
    assert escape("a|b") == "a\\F\\b"
    assert str(parsed.segment("OBR")[25]) == "F"
    assert str(parsed.segment("MSH")[9]) == "ORU^R01^ORU_R01"


def test_hl7_files_match_reports(hospital_run: tuple[Path, dict[str, Any]]) -> None:
    out, _ = hospital_run
    reports = [json.loads(x) for x in (out / "reports.jsonl").read_text().splitlines()]
    files = sorted((out / "hl7").glob("*.hl7"))
    assert len(files) == len(reports)
    for report in reports:
        for key in (
            "id",
            "accession",
            "study_uid",
            "status",
            "observed_at",
            "text",
            "patient_id",
            "patient_name",
        ):
            assert key in report
        raw = (
            (out / "hl7" / f"{report['id']}_{report['revision']}.hl7")
            .read_bytes()
            .decode("latin-1")
        )
        message = hl7.parse(raw)
        assert str(message.segment("PID")[3][0][0]) == report["patient_id"]
        assert str(message.segment("OBR")[25]) == report["status"]
        assert str(message.segment("OBR")[3]) == report["accession"]
        assert str(message.segment("ZDS")[1][0][0]) == report["study_uid"]
        text = "\n".join(_unescape(str(s[5])) for s in message.segments("OBX"))
        assert text == report["text"]
