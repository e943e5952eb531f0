"""HL7 v2.5 ORU^R01 messages for report revisions, as a RIS interface engine sends them.

Segments MSH, PID, PV1, ORC, OBR (OBR-25 = result status P/F/C), ZDS (IHE: Study
Instance UID) and one OBX (TX) per line of report text. Segments end with ``\\r``; text is
escaped with the standard escape sequences (\\F\\ \\S\\ \\T\\ \\R\\ \\E\\).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ichsilent.simulate.reports import ReportRevisionRecord

SENDING_APP = "SYNTHRIS"
RECEIVING_APP = "ICHSILENT"
ASSIGNING_AUTHORITY = "SYNTHHOSP"
LOINC_REPORT = "18782-3^Radiology Study observation (narrative)^LN"
_ESCAPES = (("\\", "\\E\\"), ("|", "\\F\\"), ("^", "\\S\\"), ("&", "\\T\\"), ("~", "\\R\\"))
_LOCATIONS = {"E": "ED^^^SYNTHHOSP", "I": "WARD7B^^^SYNTHHOSP", "O": "OPD^^^SYNTHHOSP"}


def escape(text: str) -> str:
    """Escape HL7 delimiters in free text (backslash first)."""
    for raw, escaped in _ESCAPES:
        text = text.replace(raw, escaped)
    return text


def _ts(iso: str) -> str:
    return f"{datetime.fromisoformat(iso):%Y%m%d%H%M%S}"


def oru_message(
    rev: ReportRevisionRecord,
    *,
    study_datetime: str,
    referring: str = "",
    interpreter: str = "",
) -> str:
    """One ORU^R01 message (segments joined by ``\\r``, trailing ``\\r``)."""
    observed = _ts(rev.observed_at)
    control_id = f"{rev.id}-{rev.revision}"
    exam = escape(rev.exam)
    segments = [
        f"MSH|^~\\&|{SENDING_APP}|{rev.site}|{RECEIVING_APP}|{ASSIGNING_AUTHORITY}|{observed}||"
        f"ORU^R01^ORU_R01|{control_id}|P|2.5|||AL|NE",
        f"PID|1||{rev.patient_id}^^^{ASSIGNING_AUTHORITY}^MR||{rev.patient_name}||"
        f"{rev.birth_date}|{rev.sex}",
        f"PV1|1|{rev.patient_class}|{_LOCATIONS.get(rev.patient_class, '')}||||{referring}",
        f"ORC|RE|{rev.accession}|{rev.accession}||CM",
        "|".join(
            [
                "OBR",
                "1",
                rev.accession,
                rev.accession,
                f"CTHEAD^{exam}^L",
                "",
                "",
                _ts(study_datetime),
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                referring,
                "",
                rev.accession,
                "",
                "",
                "",
                observed,
                "",
                "CT",
                rev.status,
                "",
                "",
                "",
                "",
                "",
                "",
                interpreter,
            ]
        ),
        f"ZDS|{rev.study_uid}^{SENDING_APP}^Application^DICOM",
    ]
    for i, line in enumerate(rev.text.split("\n"), start=1):
        segments.append(f"OBX|{i}|TX|{LOINC_REPORT}||{escape(line)}||||||{rev.status}")
    return "\r".join(segments) + "\r"


def message_filename(rev: ReportRevisionRecord) -> str:
    return f"{rev.id}_{rev.revision}.hl7"


def write_message(folder: Path, rev: ReportRevisionRecord, **kwargs: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / message_filename(rev)
    path.write_bytes(oru_message(rev, **kwargs).encode("latin-1", errors="replace"))
    return path
