"""Repositories: upserts are idempotent on natural keys, changes are applied."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ichsilent.domain import (
    AlertSeverity,
    Label,
    LabelState,
    Outcome,
    PatientClass,
    QuarantineReason,
    ReportRevision,
    ReportStatus,
    Scores,
    Sex,
    StudyIdentity,
    StudyState,
)
from ichsilent.errors import StoreError
from ichsilent.store.engine import session_scope
from ichsilent.store.models import ReportLabel, Study
from ichsilent.store.repositories import (
    AdjudicationRepository,
    AlertRepository,
    AuditRepository,
    CaseRepository,
    InferenceRepository,
    ModelVersionRepository,
    ReportRepository,
    SeriesRepository,
    SnapshotRepository,
    StudyRepository,
    WatermarkRepository,
    WeeklyReportRepository,
)

T0 = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
UID = "1.2.826.0.1.3680043.8.498.1"
IDENTITY = StudyIdentity(
    study_uid=UID,
    accession_pseudo="ACC-aaaa",
    patient_pseudo="PT-bbbb",
    age_years=71,
    sex=Sex.FEMALE,
)
PROBS = {
    Label.ANY: 0.91,
    Label.EPIDURAL: 0.01,
    Label.SUBDURAL: 0.85,
    Label.SUBARACHNOID: 0.12,
    Label.INTRAPARENCHYMAL: 0.05,
    Label.INTRAVENTRICULAR: 0.02,
}
Fingerprint = Callable[[Engine], tuple[dict[str, int], str]]


def fill(session: Session, *, any_prob: float = 0.91, message: str = "AUC below bound") -> None:
    """Every upsert of every repository once, with fixed timestamps (like a DAG run)."""
    studies = StudyRepository(session)
    studies.upsert_study(
        IDENTITY,
        seen_at=T0,
        patient_class=PatientClass.EMERGENCY,
        site="main",
        study_datetime=T0 - timedelta(hours=1),
        modalities=["CT"],
        body_part="HEAD",
        description="CT HEAD WO",
        instance_count=40,
        features={"metadata": {"kvp": 120.0}, "image": {"mean_hu": 31.5}},
    )
    SeriesRepository(session).upsert_series(
        UID,
        UID + ".1",
        modality="CT",
        description="AXIAL 5MM",
        image_type=["ORIGINAL", "PRIMARY", "AXIAL"],
        kernel="H30s",
        slice_thickness=5.0,
        instance_count=40,
        orientation="axial",
        selected=True,
        at=T0,
    )
    studies.set_state(UID, StudyState.SCORED, selected_series_uid=UID + ".1", at=T0)
    model_id = ModelVersionRepository(session).register(
        "ich-demo", "1.0.0", sha256="a" * 64, threshold=0.5, architecture="cnn+gru", at=T0
    )
    InferenceRepository(session).upsert_inference(
        UID,
        model_id,
        probabilities={**PROBS, Label.ANY: any_prob},
        threshold=0.5,
        scored_at=T0,
        top_slices=[12, 13],
        embedding=[0.1, 0.2],
        compute_seconds=1.5,
        latency_seconds=300.0,
        artifacts={"attention": "artifacts/x.png"},
    )
    reports = ReportRepository(session)
    revision_id = reports.add_revision(
        ReportRevision(
            report_id="RPT-1",
            revision=1,
            accession_pseudo="ACC-aaaa",
            study_uid=UID,
            status=ReportStatus.FINAL,
            observed_at=T0 + timedelta(hours=2),
            text="Acute subdural hematoma.",
            labels={Label.ANY: LabelState.PRESENT, Label.SUBDURAL: LabelState.PRESENT},
        ),
        identifiers_to_scrub=(),
        received_at=T0 + timedelta(hours=3),
        labeler_version="rules-1",
        evidence={Label.SUBDURAL: [{"sentence": "Acute subdural hematoma.", "start": 0}]},
    )
    CaseRepository(session).upsert_case(
        UID,
        model_id,
        outcome=Outcome.TP,
        matched_at=T0 + timedelta(hours=4),
        report_revision_id=revision_id,
        reference={Label.ANY: LabelState.PRESENT},
    )
    window = {"window_start": T0 - timedelta(days=7), "window_end": T0}
    snapshots = SnapshotRepository(session)
    snapshots.upsert_metric(
        window_kind="week",
        **window,
        scope="all",
        metric="sensitivity",
        protocol_hash="p1",
        model_version_id=model_id,
        value=0.9,
        ci_low=0.8,
        ci_high=0.95,
        n=40,
        extra={"tp": 36},
        computed_at=T0,
    )
    snapshots.upsert_drift(
        **window,
        feature="kvp",
        protocol_hash="p1",
        model_version_id=model_id,
        method="psi",
        statistic=0.05,
        threshold=0.2,
        drifted=False,
        details={"bins": 10},
        computed_at=T0,
    )
    AlertRepository(session).upsert_alert(
        rule="auc_lower_bound",
        **window,
        scope="all",
        severity=AlertSeverity.WARNING,
        message=message,
        created_at=T0,
    )
    WeeklyReportRepository(session).upsert_report(
        iso_week="2025-W02",
        data_cutoff=T0,
        path="reports/2025-W02.pdf",
        sha256="b" * 64,
        snapshot={"auc": 0.93},
        created_at=T0,
    )
    WatermarkRepository(session).advance("pacs", T0, at=T0)


def test_every_upsert_twice_changes_nothing(engine: Engine, fingerprint: Fingerprint) -> None:
    with session_scope(engine) as session:
        fill(session)
    counts, digest = fingerprint(engine)
    assert all(counts[name] >= 1 for name in counts if name not in {"adjudications", "audit_log"})
    with session_scope(engine) as session:
        fill(session)
    assert fingerprint(engine) == (counts, digest)


def test_changed_values_update_in_place(engine: Engine, fingerprint: Fingerprint) -> None:
    with session_scope(engine) as session:
        fill(session)
    counts, digest = fingerprint(engine)
    with session_scope(engine) as session:
        fill(session, any_prob=0.2, message="AUC far below bound")
    new_counts, new_digest = fingerprint(engine)
    assert new_counts == counts
    assert new_digest != digest
    with session_scope(engine) as session:
        summary = StudyRepository(session).study_summaries()[0]
        assert summary["scores"]["any"] == pytest.approx(0.2)
        assert summary["decision"] is False
        assert AlertRepository(session).open_alerts()[0].message == "AUC far below bound"


def test_updated_at_moves_only_on_a_real_change(engine: Engine) -> None:
    later = T0 + timedelta(days=1)
    with session_scope(engine) as session:
        studies = StudyRepository(session)
        studies.upsert_study(IDENTITY, seen_at=T0, site="main")
        studies.upsert_study(IDENTITY, seen_at=T0, site="main")
        assert studies.get(UID).updated_at == T0
        studies.upsert_study(IDENTITY, seen_at=T0, site="annex")
        assert studies.get(UID).site == "annex"
        studies.upsert_study(IDENTITY, seen_at=later)
        study = studies.get(UID)
        assert (study.first_seen_at, study.last_seen_at, study.updated_at) == (T0, later, later)
        studies.upsert_study(IDENTITY, seen_at=T0)  # an older sighting never narrows the range
        assert studies.get(UID).last_seen_at == later


def test_rediscovery_keeps_the_state(engine: Engine) -> None:
    with session_scope(engine) as session:
        studies = StudyRepository(session)
        studies.upsert_study(IDENTITY, seen_at=T0)
        assert studies.get(UID).state is StudyState.DISCOVERED
        assert studies.set_state(
            UID, StudyState.QUARANTINED, reason=QuarantineReason.TOO_FEW_SLICES, reason_detail="3"
        )
        assert not studies.set_state(
            UID, StudyState.QUARANTINED, reason=QuarantineReason.TOO_FEW_SLICES, reason_detail="3"
        )
        studies.upsert_study(IDENTITY, seen_at=T0 + timedelta(hours=1))
        study = studies.get(UID)
        assert study.state is StudyState.QUARANTINED
        assert study.reason is QuarantineReason.TOO_FEW_SLICES
        with pytest.raises(StoreError, match="needs a QuarantineReason"):
            studies.set_state(UID, StudyState.QUARANTINED)
        with pytest.raises(StoreError, match="no study"):
            studies.set_state("9.9.9", StudyState.SCORED)


def test_study_summaries_shape(engine: Engine) -> None:
    with session_scope(engine) as session:
        studies = StudyRepository(session)
        other = StudyIdentity(study_uid="1.2.3", accession_pseudo="ACC-c", patient_pseudo="PT-d")
        studies.upsert_study(other, seen_at=T0)
        studies.set_state("1.2.3", StudyState.SKIPPED, reason=QuarantineReason.NOT_HEAD_CT)
        fill(session)
        rows = {row["study_uid"]: row for row in studies.study_summaries()}
    keys = {
        "study_uid",
        "accession_pseudo",
        "state",
        "reason",
        "selected_series_uid",
        "scores",
        "decision",
    }
    assert all(set(row) == keys for row in rows.values())
    assert rows["1.2.3"] == {
        "study_uid": "1.2.3",
        "accession_pseudo": "ACC-c",
        "state": "skipped",
        "reason": "not_head_ct",
        "selected_series_uid": None,
        "scores": {},
        "decision": None,
    }
    scored = rows[UID]
    assert scored["state"] == "scored"
    assert scored["selected_series_uid"] == UID + ".1"
    assert list(scored["scores"]) == [label.value for label in Label]
    assert scored["scores"]["subdural"] == pytest.approx(0.85)
    assert scored["decision"] is True


def test_record_scores_checks_the_model(engine: Engine) -> None:
    with session_scope(engine) as session:
        StudyRepository(session).upsert_study(IDENTITY, seen_at=T0)
        models = ModelVersionRepository(session)
        models.register("ich-demo", "1.0.0", sha256="a" * 64, threshold=0.5, at=T0)
        with pytest.raises(StoreError, match="bump the version"):
            models.register("ich-demo", "1.0.0", sha256="c" * 64, threshold=0.5, at=T0)
        inferences = InferenceRepository(session)
        scores = Scores(dict(PROBS), "ich-demo", "1.0.0", "a" * 64, 0.5)
        inferences.record_scores(UID, scores, scored_at=T0)
        assert inferences.for_study(UID)[0].prob_any == pytest.approx(0.91)
        with pytest.raises(StoreError, match="registered as"):
            inferences.record_scores(
                UID, Scores(dict(PROBS), "ich-demo", "1.0.0", "d" * 64, 0.5), scored_at=T0
            )
        with pytest.raises(StoreError, match="expected 0 <= p <= 1"):
            inferences.record_scores(
                UID,
                Scores({**PROBS, Label.ANY: 1.5}, "ich-demo", "1.0.0", "a" * 64, 0.5),
                scored_at=T0,
            )
        with pytest.raises(StoreError, match="lack"):
            inferences.upsert_inference(
                UID, 1, probabilities={Label.ANY: 0.5}, threshold=0.5, scored_at=T0
            )


def test_amended_report_supersedes_and_labels_are_replaced(engine: Engine) -> None:
    def revision(number: int, status: ReportStatus, labels: dict[Label, LabelState]) -> int:
        return ReportRepository(session).add_revision(
            ReportRevision(
                report_id="RPT-9",
                revision=number,
                accession_pseudo="ACC-z",
                study_uid=None,
                status=status,
                observed_at=T0 + timedelta(hours=number),
                text=f"revision {number}",
                labels=labels,
            ),
            identifiers_to_scrub=(),
            received_at=T0 + timedelta(hours=number),
        )

    with session_scope(engine) as session:
        reports = ReportRepository(session)
        first = revision(1, ReportStatus.FINAL, {Label.ANY: LabelState.ABSENT})
        second = revision(2, ReportStatus.CORRECTED, {Label.ANY: LabelState.PRESENT})
        current = reports.current_revision("RPT-9")
        assert current is not None
        assert current.id == second
        assert current.superseded is False
        assert session.get(type(current), first).superseded is True  # type: ignore[union-attr]
        reports.set_labels(second, {Label.SUBDURAL: LabelState.UNCERTAIN})
        assert reports.labels_of(second) == {Label.SUBDURAL: LabelState.UNCERTAIN}
        assert session.scalar(select(func.count()).select_from(ReportLabel)) == 2


def test_watermark_alert_ack_and_audit(engine: Engine) -> None:
    with session_scope(engine) as session:
        marks = WatermarkRepository(session)
        assert marks.get("ris") is None
        assert marks.advance("ris", T0, at=T0) == T0
        assert marks.advance("ris", T0 - timedelta(days=1), at=T0) == T0
        assert marks.advance("ris", T0 + timedelta(hours=1), at=T0) == T0 + timedelta(hours=1)
        fill(session)
        alerts = AlertRepository(session)
        alert_id = alerts.open_alerts()[0].id
        assert alerts.acknowledge(alert_id, by="chair", at=T0)
        assert not alerts.acknowledge(alert_id, by="other", at=T0 + timedelta(days=1))
        fill(session)  # the monitor re-runs: the acknowledgement stays
        assert alerts.open_alerts() == []
        audit = AuditRepository(session)
        audit.append(actor="chair", action="acknowledge", entity="alert", entity_id=str(alert_id))
        audit.append(actor="chair", action="acknowledge", entity="alert", entity_id=str(alert_id))
        assert len(audit.entries(entity="alert")) == 2  # append only, never merged
        case_id = CaseRepository(session).with_outcome(Outcome.TP)[0].id
        adjudications = AdjudicationRepository(session)
        adjudications.add(
            case_id, reviewer="dr_a", labels={Label.ANY: LabelState.PRESENT}, created_at=T0
        )
        assert len(adjudications.for_case(case_id)) == 1
        with pytest.raises(StoreError, match="no case"):
            adjudications.add(999, reviewer="dr_a", labels={}, created_at=T0)


def test_study_upsert_needs_a_pseudonymised_identity(engine: Engine) -> None:
    with session_scope(engine) as session, pytest.raises(StoreError, match="StudyIdentity"):
        StudyRepository(session).upsert_study({"study_uid": UID}, seen_at=T0)  # type: ignore[arg-type]
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(Study)) == 0
