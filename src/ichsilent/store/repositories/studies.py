"""Studies, series, model versions and inferences."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from ichsilent.domain import (
    LABELS,
    Label,
    PatientClass,
    QuarantineReason,
    Scores,
    StudyIdentity,
    StudyState,
)
from ichsilent.errors import StoreError
from ichsilent.store.models import Inference, ModelVersion, Series, Study
from ichsilent.store.repositories._base import (
    Repository,
    greatest,
    least,
    table_of,
    utcnow,
)


class StudyRepository(Repository):
    """Studies keyed on StudyInstanceUID. Only a ``StudyIdentity`` (pseudonyms) goes in."""

    def upsert_study(
        self,
        identity: StudyIdentity,
        *,
        seen_at: datetime | None = None,
        state: StudyState | None = None,
        patient_class: PatientClass | None = None,
        site: str | None = None,
        study_datetime: datetime | None = None,
        modalities: Sequence[str] | None = None,
        body_part: str | None = None,
        description: str | None = None,
        instance_count: int | None = None,
        features: Mapping[str, Any] | None = None,
    ) -> int:
        """Insert or refresh a study; returns its id.

        Fields given as None keep what is stored. ``state`` None means "new studies start
        as discovered, known ones keep their state" (use ``set_state`` to move it).
        ``first_seen_at``/``last_seen_at`` only widen.
        """
        if not isinstance(identity, StudyIdentity):
            raise StoreError(
                f"upsert_study got {type(identity).__name__}; expected a StudyIdentity "
                "(build it with ichsilent.privacy.identity_from_raw)"
            )
        seen = seen_at or utcnow()
        optional: dict[str, Any] = {
            "age_years": identity.age_years,
            "patient_class": patient_class,
            "site": site,
            "study_datetime": study_datetime,
            "modalities": list(modalities) if modalities is not None else None,
            "body_part": body_part,
            "description": description,
            "instance_count": instance_count,
            "features": dict(features) if features is not None else None,
            "state": state,
        }
        given = {name: value for name, value in optional.items() if value is not None}
        values: dict[str, Any] = {
            "study_uid": identity.study_uid,
            "accession_pseudo": identity.accession_pseudo,
            "patient_pseudo": identity.patient_pseudo,
            "sex": identity.sex,
            **given,
            "first_seen_at": seen,
            "last_seen_at": seen,
            "updated_at": seen,
        }
        values.setdefault("state", StudyState.DISCOVERED)
        insert_only = () if state is not None else ("state",)
        session = self.session
        return self._upsert(
            Study,
            values,
            key=("study_uid",),
            insert_only=insert_only,
            touch=("updated_at",),
            merge={
                "first_seen_at": lambda t, ex: least(session, t.c.first_seen_at, ex.first_seen_at),
                "last_seen_at": lambda t, ex: greatest(session, t.c.last_seen_at, ex.last_seen_at),
            },
        ).id

    def set_state(
        self,
        study_uid: str,
        state: StudyState,
        *,
        reason: QuarantineReason | None = None,
        reason_detail: str | None = None,
        selected_series_uid: str | None = None,
        at: datetime | None = None,
    ) -> bool:
        """Move a study to ``state`` (reason/detail replaced, even by None); True if changed."""
        if state is StudyState.QUARANTINED and reason is None:
            raise StoreError(
                f"study {study_uid}: state quarantined needs a QuarantineReason; got none"
            )
        table = table_of(Study)
        new: dict[str, Any] = {"state": state, "reason": reason, "reason_detail": reason_detail}
        if selected_series_uid is not None:
            new["selected_series_uid"] = selected_series_uid
        self.session.flush()
        self.get(study_uid)  # raises when unknown
        stmt = (
            update(table)
            .where(table.c.study_uid == study_uid)
            .where(
                table.c.state.is_distinct_from(state)
                | table.c.reason.is_distinct_from(reason)
                | table.c.reason_detail.is_distinct_from(reason_detail)
                | table.c.selected_series_uid.is_distinct_from(
                    selected_series_uid
                    if selected_series_uid is not None
                    else table.c.selected_series_uid
                )
            )
            .values(**new, updated_at=at or utcnow())
        )
        return bool(getattr(self.session.execute(stmt), "rowcount", 0))

    def get(self, study_uid: str) -> Study:
        study = self.find(study_uid)
        if study is None:
            raise StoreError(f"no study with StudyInstanceUID {study_uid!r} in the store")
        return study

    def find(self, study_uid: str) -> Study | None:
        return self.session.scalars(
            select(Study)
            .where(Study.study_uid == study_uid)
            .execution_options(populate_existing=True)
        ).one_or_none()

    def id_of(self, study_uid: str) -> int:
        found = self.session.scalar(select(Study.id).where(Study.study_uid == study_uid))
        if found is None:
            raise StoreError(f"no study with StudyInstanceUID {study_uid!r} in the store")
        return found

    def in_state(self, *states: StudyState) -> list[Study]:
        return list(
            self.session.scalars(
                select(Study)
                .where(Study.state.in_(states))
                .order_by(Study.id)
                .execution_options(populate_existing=True)
            )
        )

    def study_summaries(self) -> list[dict[str, Any]]:
        """One dict per study, the ``ichsilent studies --json`` contract.

        Keys: study_uid, accession_pseudo, state, reason, selected_series_uid,
        scores (label -> probability of the latest inference; {} until scored),
        decision (bool, None until scored).
        """
        self.session.flush()
        latest: dict[int, Inference] = {}
        for scored in self.session.scalars(
            select(Inference).order_by(Inference.scored_at, Inference.id)
        ):
            latest[scored.study_id] = scored
        rows = self.session.execute(
            select(
                Study.id,
                Study.study_uid,
                Study.accession_pseudo,
                Study.state,
                Study.reason,
                Study.selected_series_uid,
            ).order_by(Study.study_datetime.asc().nulls_last(), Study.id)
        )
        summaries: list[dict[str, Any]] = []
        for row in rows:
            inference = latest.get(row.id)
            summaries.append(
                {
                    "study_uid": row.study_uid,
                    "accession_pseudo": row.accession_pseudo,
                    "state": StudyState(row.state).value,
                    "reason": QuarantineReason(row.reason).value if row.reason else None,
                    "selected_series_uid": row.selected_series_uid,
                    "scores": (
                        {
                            label.value: float(inference.probabilities[label.value])
                            for label in LABELS
                        }
                        if inference is not None
                        else {}
                    ),
                    "decision": bool(inference.decision) if inference is not None else None,
                }
            )
        return summaries


class SeriesRepository(Repository):
    """Series of a study and the selection verdict."""

    def upsert_series(
        self,
        study_uid: str,
        series_uid: str,
        *,
        modality: str | None = None,
        description: str | None = None,
        image_type: Sequence[str] | None = None,
        kernel: str | None = None,
        slice_thickness: float | None = None,
        instance_count: int | None = None,
        orientation: str | None = None,
        selected: bool = False,
        rejection_reason: str | None = None,
        at: datetime | None = None,
    ) -> int:
        values: dict[str, Any] = {
            "series_uid": series_uid,
            "study_id": StudyRepository(self.session).id_of(study_uid),
            "modality": modality,
            "description": description,
            "image_type": list(image_type) if image_type is not None else None,
            "kernel": kernel,
            "slice_thickness": slice_thickness,
            "instance_count": instance_count,
            "orientation": orientation,
            "selected": selected,
            "rejection_reason": rejection_reason,
            "updated_at": at or utcnow(),
        }
        return self._upsert(Series, values, key=("series_uid",), touch=("updated_at",)).id

    def for_study(self, study_uid: str) -> list[Series]:
        return list(
            self.session.scalars(
                select(Series)
                .join(Study)
                .where(Study.study_uid == study_uid)
                .order_by(Series.id)
                .execution_options(populate_existing=True)
            )
        )


class ModelVersionRepository(Repository):
    """Model versions; the same name+version with other weights is refused."""

    def register(
        self,
        name: str,
        version: str,
        *,
        sha256: str,
        threshold: float,
        architecture: str | None = None,
        card: Mapping[str, Any] | None = None,
        at: datetime | None = None,
    ) -> int:
        existing = self.find(name, version)
        if existing is not None and existing.sha256 != sha256:
            raise StoreError(
                f"model {name} {version} is registered with sha256 {existing.sha256}, "
                f"got {sha256}: weights changed without a new version; bump the version"
            )
        values: dict[str, Any] = {
            "name": name,
            "version": version,
            "sha256": sha256,
            "threshold": threshold,
            "architecture": architecture,
            "card": dict(card) if card is not None else None,
            "registered_at": at or utcnow(),
        }
        return self._upsert(
            ModelVersion, values, key=("name", "version"), insert_only=("registered_at",)
        ).id

    def find(self, name: str, version: str) -> ModelVersion | None:
        return self.session.scalars(
            select(ModelVersion)
            .where(ModelVersion.name == name, ModelVersion.version == version)
            .execution_options(populate_existing=True)
        ).one_or_none()

    def get(self, name: str, version: str) -> ModelVersion:
        found = self.find(name, version)
        if found is None:
            raise StoreError(f"model {name} {version} is not registered (register it first)")
        return found


class InferenceRepository(Repository):
    """Scores per study and model version."""

    def upsert_inference(
        self,
        study_uid: str,
        model_version_id: int,
        *,
        probabilities: Mapping[Label, float] | Mapping[str, float],
        threshold: float,
        scored_at: datetime,
        decision: bool | None = None,
        top_slices: Sequence[int] | None = None,
        embedding: Sequence[float] | None = None,
        compute_seconds: float | None = None,
        latency_seconds: float | None = None,
        artifacts: Mapping[str, str] | None = None,
    ) -> int:
        probs = _checked_probabilities(study_uid, probabilities)
        values: dict[str, Any] = {
            "study_id": StudyRepository(self.session).id_of(study_uid),
            "model_version_id": model_version_id,
            "probabilities": probs,
            "prob_any": probs[Label.ANY.value],
            "decision": decision if decision is not None else probs[Label.ANY.value] >= threshold,
            "threshold": threshold,
            "top_slices": list(top_slices) if top_slices is not None else None,
            "embedding": [float(v) for v in embedding] if embedding is not None else None,
            "compute_seconds": compute_seconds,
            "latency_seconds": latency_seconds,
            "scored_at": scored_at,
            "artifacts": dict(artifacts) if artifacts is not None else None,
        }
        return self._upsert(Inference, values, key=("study_id", "model_version_id")).id

    def record_scores(
        self, study_uid: str, scores: Scores, *, scored_at: datetime, **extra: Any
    ) -> int:
        """Store a domain ``Scores`` (model looked up by name and version)."""
        model = ModelVersionRepository(self.session).get(scores.model_name, scores.model_version)
        if model.sha256 != scores.model_sha256:
            raise StoreError(
                f"scores of {study_uid} come from weights {scores.model_sha256}, but "
                f"{scores.model_name} {scores.model_version} is registered as {model.sha256}"
            )
        return self.upsert_inference(
            study_uid,
            model.id,
            probabilities=scores.probabilities,
            threshold=scores.threshold,
            decision=scores.decision,
            scored_at=scored_at,
            **extra,
        )

    def for_study(self, study_uid: str) -> list[Inference]:
        return list(
            self.session.scalars(
                select(Inference)
                .join(Study, Study.id == Inference.study_id)
                .where(Study.study_uid == study_uid)
                .order_by(Inference.scored_at, Inference.id)
                .execution_options(populate_existing=True)
            )
        )


def _checked_probabilities(
    study_uid: str, given: Mapping[Label, float] | Mapping[str, float]
) -> dict[str, float]:
    probs = {str(Label(key).value): float(value) for key, value in given.items()}
    missing = [label.value for label in LABELS if label.value not in probs]
    if missing:
        raise StoreError(
            f"scores of {study_uid} lack {', '.join(missing)}; expected all of "
            f"{', '.join(label.value for label in LABELS)}"
        )
    for label, value in probs.items():
        if math.isnan(value) or not 0.0 <= value <= 1.0:
            raise StoreError(f"scores of {study_uid}: {label}={value}; expected 0 <= p <= 1")
    return {label.value: probs[label.value] for label in LABELS}
