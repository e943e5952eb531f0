"""Reports (with scrubbed revisions and labels), matched cases and adjudications."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, delete, func, select, update

from ichsilent.domain import Label, LabelState, Outcome, ReportRevision, ReportStatus
from ichsilent.errors import StoreError
from ichsilent.privacy import Pseudonymizer, scrub_text, scrub_value
from ichsilent.store.models import Adjudication, Case, Report, ReportLabel
from ichsilent.store.models import ReportRevision as RevisionRow
from ichsilent.store.repositories._base import Repository, table_of, utcnow
from ichsilent.store.repositories.studies import StudyRepository


class ReportRepository(Repository):
    """Reports keyed on (pseudonymised) report id; revisions keyed on (report, revision).

    Text and evidence only enter through ``add_revision``, which scrubs the identifiers it
    is given; ``add_raw_revision`` is the path for sources that hold raw identifiers.
    """

    def upsert_report(
        self,
        report_id: str,
        *,
        accession_pseudo: str,
        study_uid: str | None = None,
        at: datetime | None = None,
    ) -> int:
        values: dict[str, Any] = {
            "report_id": report_id,
            "accession_pseudo": accession_pseudo,
            "updated_at": at or utcnow(),
        }
        if study_uid is not None:
            values["study_uid"] = study_uid
        return self._upsert(Report, values, key=("report_id",), touch=("updated_at",)).id

    def add_revision(
        self,
        revision: ReportRevision,
        *,
        identifiers_to_scrub: Iterable[str],
        received_at: datetime,
        labeler_version: str | None = None,
        evidence: Mapping[Label | str, Sequence[Mapping[str, Any]]] | None = None,
    ) -> int:
        """Store one revision (text scrubbed of the given identifiers) and its labels.

        ``identifiers_to_scrub`` is required: pass the patient's name, MRN and accession
        from the message header (an empty tuple only when the source has none).
        """
        known = tuple(i for i in identifiers_to_scrub if i)
        report_fk = self.upsert_report(
            revision.report_id,
            accession_pseudo=revision.accession_pseudo,
            study_uid=revision.study_uid,
            at=received_at,
        )
        values: dict[str, Any] = {
            "report_fk": report_fk,
            "revision": revision.revision,
            "status": ReportStatus(revision.status),
            "observed_at": revision.observed_at,
            "text": scrub_text(revision.text, known),
            "received_at": received_at,
            "labeler_version": labeler_version,
            "superseded": False,
        }
        revision_id = self._upsert(
            RevisionRow,
            values,
            key=("report_fk", "revision"),
            insert_only=("received_at", "superseded"),
        ).id
        self._refresh_superseded(report_fk)
        if revision.labels or evidence:
            self.set_labels(
                revision_id,
                revision.labels,
                evidence=scrub_value(dict(evidence or {}), known),
            )
        return revision_id

    def add_raw_revision(
        self,
        pseudonymizer: Pseudonymizer,
        *,
        report_id: str,
        accession: str,
        patient_id: str | None,
        patient_name: str | None,
        study_uid: str | None,
        revision: int,
        status: ReportStatus,
        observed_at: datetime,
        text: str,
        received_at: datetime,
        labels: Mapping[Label, LabelState] | None = None,
        evidence: Mapping[Label | str, Sequence[Mapping[str, Any]]] | None = None,
        labeler_version: str | None = None,
        birth_date: date | None = None,
    ) -> int:
        """Pseudonymise the report id and accession, scrub name/MRN/accession, then store."""
        scrub = [v for v in (patient_name, patient_id, accession, report_id) if v]
        if birth_date is not None:
            scrub += [birth_date.isoformat(), birth_date.strftime("%Y%m%d")]
        record = ReportRevision(
            report_id=pseudonymizer.report(report_id),
            revision=revision,
            accession_pseudo=pseudonymizer.accession(accession),
            study_uid=study_uid,
            status=status,
            observed_at=observed_at,
            text=text,
            labels=dict(labels or {}),
        )
        return self.add_revision(
            record,
            identifiers_to_scrub=scrub,
            received_at=received_at,
            labeler_version=labeler_version,
            evidence=evidence,
        )

    def set_labels(
        self,
        revision_id: int,
        labels: Mapping[Label, LabelState],
        *,
        evidence: Mapping[Label | str, Sequence[Mapping[str, Any]]] | None = None,
    ) -> None:
        """Make the revision's labels exactly ``labels`` (upserts; drops labels not given)."""
        by_label = {str(Label(k).value): list(v) for k, v in (evidence or {}).items()}
        wanted = {Label(label): LabelState(state) for label, state in labels.items()}
        for label, state in wanted.items():
            self._upsert(
                ReportLabel,
                {
                    "revision_id": revision_id,
                    "label": label,
                    "state": state,
                    "evidence": by_label.get(label.value),
                },
                key=("revision_id", "label"),
            )
        stale = delete(ReportLabel).where(ReportLabel.revision_id == revision_id)
        if wanted:
            stale = stale.where(ReportLabel.label.not_in(list(wanted)))
        self.session.execute(stale)

    def _refresh_superseded(self, report_fk: int) -> None:
        table = table_of(RevisionRow)
        newest = (
            select(func.max(table.c.revision))
            .where(table.c.report_fk == report_fk)
            .scalar_subquery()
        )
        flag = case((table.c.revision < newest, True), else_=False)
        self.session.execute(
            update(table)
            .where(table.c.report_fk == report_fk)
            .where(table.c.superseded.is_distinct_from(flag))
            .values(superseded=flag)
        )

    def current_revision(self, report_id: str) -> RevisionRow | None:
        """The newest revision of a report (the one that counts as reference)."""
        return self.session.scalars(
            select(RevisionRow)
            .join(Report)
            .where(Report.report_id == report_id)
            .order_by(RevisionRow.revision.desc())
            .limit(1)
            .execution_options(populate_existing=True)
        ).one_or_none()

    def labels_of(self, revision_id: int) -> dict[Label, LabelState]:
        rows = self.session.execute(
            select(ReportLabel.label, ReportLabel.state).where(
                ReportLabel.revision_id == revision_id
            )
        )
        return {Label(row.label): LabelState(row.state) for row in rows}


class CaseRepository(Repository):
    """One outcome per study and model version."""

    def upsert_case(
        self,
        study_uid: str,
        model_version_id: int,
        *,
        outcome: Outcome,
        matched_at: datetime,
        report_revision_id: int | None = None,
        reference: Mapping[Label, LabelState] | None = None,
    ) -> int:
        values: dict[str, Any] = {
            "study_id": StudyRepository(self.session).id_of(study_uid),
            "model_version_id": model_version_id,
            "outcome": Outcome(outcome),
            "report_revision_id": report_revision_id,
            "reference": (
                {Label(k).value: LabelState(v).value for k, v in reference.items()}
                if reference is not None
                else None
            ),
            "matched_at": matched_at,
        }
        return self._upsert(
            Case, values, key=("study_id", "model_version_id"), touch=("matched_at",)
        ).id

    def with_outcome(self, *outcomes: Outcome) -> list[Case]:
        return list(
            self.session.scalars(
                select(Case)
                .where(Case.outcome.in_(outcomes))
                .order_by(Case.id)
                .execution_options(populate_existing=True)
            )
        )


class AdjudicationRepository(Repository):
    """Reviewers' decisions: appended, never edited; free-text notes are scrubbed."""

    def add(
        self,
        case_id: int,
        *,
        reviewer: str,
        labels: Mapping[Label, LabelState],
        created_at: datetime,
        cause: str | None = None,
        note: str | None = None,
        identifiers_to_scrub: Iterable[str] = (),
    ) -> int:
        if self.session.get(Case, case_id) is None:
            raise StoreError(f"no case with id {case_id}; adjudicate an existing case")
        row = Adjudication(
            case_id=case_id,
            reviewer=reviewer,
            labels={Label(k).value: LabelState(v).value for k, v in labels.items()},
            cause=cause,
            note=scrub_text(note, tuple(identifiers_to_scrub)) if note else note,
            created_at=created_at,
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def for_case(self, case_id: int) -> list[Adjudication]:
        return list(
            self.session.scalars(
                select(Adjudication)
                .where(Adjudication.case_id == case_id)
                .order_by(Adjudication.created_at, Adjudication.id)
            )
        )
