"""Nothing identifying reaches the database through the ingestion paths.

A study, its series, scores, a report whose text repeats the patient's name, MRN and
accession, a case, an adjudication note and an audit entry are written the way the
pipeline writes them; then every text and JSON value of every table is scanned.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, MetaData, select
from sqlalchemy.engine import make_url

from ichsilent.domain import Label, LabelState, Outcome, ReportStatus, StudyState
from ichsilent.privacy import Pseudonymizer, identity_from_raw
from ichsilent.store.engine import session_scope
from ichsilent.store.repositories import (
    AdjudicationRepository,
    AuditRepository,
    CaseRepository,
    InferenceRepository,
    ModelVersionRepository,
    ReportRepository,
    SeriesRepository,
    StudyRepository,
)

PATIENT_NAME = "DOE^JANE"
MRN = "MRN12345678"
ACCESSION = "ACC99887766"
BIRTH = date(1950, 3, 4)
PLANTED = [
    r"DOE\^JANE",
    r"Jane\s+Doe",
    r"\bjane\b",
    r"\bdoe\b",
    MRN,
    ACCESSION,
    "12345678",
    "99887766",
    "1950-03-04",
    "19500304",
]
UID = "1.2.826.0.1.3680043.8.498.77"
T0 = datetime(2025, 2, 3, 10, 0, tzinfo=UTC)
KEY = b"test-key-that-is-long-enough-0123456789"


def _fill(engine: Engine, pseudonymizer: Pseudonymizer) -> None:
    identity = identity_from_raw(
        pseudonymizer,
        study_uid=UID,
        patient_id=MRN,
        accession=ACCESSION,
        birth_date=BIRTH,
        study_date=T0.date(),
        sex="F",
    )
    text = (
        f"Patient: Jane Doe ({MRN}), accession {ACCESSION}, born 1950-03-04.\n"
        f"FINDINGS: {PATIENT_NAME} has an acute left subdural hematoma. "
        "Compared with the prior study of Doe, Jane.\n"
        "IMPRESSION: Acute subdural hematoma; discussed with Dr. Smith."
    )
    with session_scope(engine) as session:
        studies = StudyRepository(session)
        studies.upsert_study(
            identity,
            seen_at=T0,
            study_datetime=T0,
            modalities=["CT"],
            body_part="HEAD",
            description="CT HEAD WITHOUT CONTRAST",
            instance_count=32,
            features={"metadata": {"kvp": 120}, "image": {"mean_hu": 30.2}},
        )
        SeriesRepository(session).upsert_series(
            UID, UID + ".2", modality="CT", description="AX 5MM", selected=True, at=T0
        )
        studies.set_state(UID, StudyState.SCORED, selected_series_uid=UID + ".2", at=T0)
        model_id = ModelVersionRepository(session).register(
            "ich-demo", "1.0.0", sha256="e" * 64, threshold=0.5, at=T0
        )
        InferenceRepository(session).upsert_inference(
            UID,
            model_id,
            probabilities={label: 0.7 for label in Label},
            threshold=0.5,
            scored_at=T0,
            artifacts={"attention": f"artifacts/{UID}/attention.png"},
        )
        sentence = f"{PATIENT_NAME} has an acute left subdural hematoma."
        revision_id = ReportRepository(session).add_raw_revision(
            pseudonymizer,
            report_id=ACCESSION,  # many RIS use the accession as the report id
            accession=ACCESSION,
            patient_id=MRN,
            patient_name=PATIENT_NAME,
            birth_date=BIRTH,
            study_uid=UID,
            revision=1,
            status=ReportStatus.FINAL,
            observed_at=T0 + timedelta(hours=1),
            text=text,
            received_at=T0 + timedelta(hours=2),
            labels={Label.ANY: LabelState.PRESENT, Label.SUBDURAL: LabelState.PRESENT},
            evidence={Label.SUBDURAL: [{"sentence": sentence, "start": 0, "end": len(sentence)}]},
        )
        case_id = CaseRepository(session).upsert_case(
            UID,
            model_id,
            outcome=Outcome.TP,
            matched_at=T0 + timedelta(hours=3),
            report_revision_id=revision_id,
            reference={Label.ANY: LabelState.PRESENT},
        )
        raw = (PATIENT_NAME, MRN, ACCESSION)
        AdjudicationRepository(session).add(
            case_id,
            reviewer="dr_reviewer",
            labels={Label.ANY: LabelState.PRESENT},
            created_at=T0 + timedelta(days=1),
            cause="true_positive",
            note=f"Agree. Checked against Jane Doe's prior ({MRN}).",
            identifiers_to_scrub=raw,
        )
        AuditRepository(session).append(
            actor="ingest",
            action="report_received",
            entity="report",
            entity_id=pseudonymizer.report(ACCESSION),
            details={"accession": ACCESSION, "patient": PATIENT_NAME, "ids": [MRN]},
            at=T0,
            identifiers_to_scrub=raw,
        )


def _all_values(engine: Engine) -> list[tuple[str, str, str]]:
    metadata = MetaData()
    metadata.reflect(engine)
    found: list[tuple[str, str, str]] = []
    with engine.connect() as connection:
        for name, table in metadata.tables.items():
            for row in connection.execute(select(table)).mappings():
                for column, value in row.items():
                    if value is None:
                        continue
                    shown = value if isinstance(value, str) else json.dumps(value, default=str)
                    found.append((name, column, shown))
    return found


def test_no_identifier_is_stored_and_pseudonyms_are(engine: Engine, database_url: str) -> None:
    pseudonymizer = Pseudonymizer(KEY)
    _fill(engine, pseudonymizer)
    values = _all_values(engine)
    assert {table for table, _, _ in values} >= {
        "studies",
        "series",
        "inferences",
        "reports",
        "report_revisions",
        "report_labels",
        "cases",
        "adjudications",
        "audit_log",
    }
    for pattern in PLANTED:
        leaks = [
            (table, column)
            for table, column, text in values
            if re.search(pattern, text, re.IGNORECASE)
        ]
        assert leaks == [], f"{pattern!r} stored in {leaks}"
    stored = "\n".join(text for _, _, text in values)
    assert pseudonymizer.patient(MRN) in stored
    assert pseudonymizer.accession(ACCESSION) in stored
    assert pseudonymizer.report(ACCESSION) in stored
    assert "subdural hematoma" in stored  # the clinical content is kept
    assert "[REDACTED]" in stored
    if database_url.startswith("sqlite"):  # not even in the raw bytes of the file or WAL
        database = make_url(database_url).database
        assert database is not None
        for path in Path(database).parent.iterdir():
            blob = path.read_bytes().lower()
            for planted in (MRN, ACCESSION, "jane", "1950-03-04"):
                assert planted.lower().encode() not in blob, f"{planted} in {path.name}"


def test_pseudonyms_survive_a_second_ingestion_unchanged(engine: Engine) -> None:
    pseudonymizer = Pseudonymizer(KEY)
    _fill(engine, pseudonymizer)
    first = sorted(_all_values(engine))
    _fill(engine, pseudonymizer)
    second = sorted(_all_values(engine))
    # the audit log and adjudications are append-only: they grow, the rest does not change
    grown = {"audit_log", "adjudications"}
    assert [v for v in first if v[0] not in grown] == [v for v in second if v[0] not in grown]
