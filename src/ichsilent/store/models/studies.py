"""Imaging side: studies, their series, model versions and inferences."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ichsilent.domain import PatientClass, QuarantineReason, Sex, StudyState
from ichsilent.store.models.base import Base, UTCDateTime, json_type, str_enum

UID = String(64)  # DICOM UIDs are at most 64 characters
PSEUDO = String(64)


class Study(Base):
    """One imaging study, identified by StudyInstanceUID; identifiers are pseudonyms only."""

    __tablename__ = "studies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_uid: Mapped[str] = mapped_column(UID, unique=True)
    accession_pseudo: Mapped[str] = mapped_column(PSEUDO, index=True)
    patient_pseudo: Mapped[str] = mapped_column(PSEUDO, index=True)
    age_years: Mapped[int | None] = mapped_column(Integer)
    sex: Mapped[Sex] = mapped_column(str_enum(Sex, 1))
    patient_class: Mapped[PatientClass | None] = mapped_column(str_enum(PatientClass, 1))
    site: Mapped[str | None] = mapped_column(String(64))
    study_datetime: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    modalities: Mapped[list[str] | None] = mapped_column(json_type())
    body_part: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(String(256))
    state: Mapped[StudyState] = mapped_column(str_enum(StudyState), index=True)
    reason: Mapped[QuarantineReason | None] = mapped_column(str_enum(QuarantineReason))
    reason_detail: Mapped[str | None] = mapped_column(Text)
    selected_series_uid: Mapped[str | None] = mapped_column(UID)
    instance_count: Mapped[int | None] = mapped_column(Integer)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # {"metadata": {...}, "image": {...}}: inputs of the drift monitor
    features: Mapped[dict[str, Any] | None] = mapped_column(json_type())

    series: Mapped[list[Series]] = relationship(
        back_populates="study", cascade="all, delete-orphan", passive_deletes=True
    )


class Series(Base):
    """One series of a study, with the selection verdict (selected or why rejected)."""

    __tablename__ = "series"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_uid: Mapped[str] = mapped_column(UID, unique=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    modality: Mapped[str | None] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(String(256))
    image_type: Mapped[list[str] | None] = mapped_column(json_type())
    kernel: Mapped[str | None] = mapped_column(String(64))
    slice_thickness: Mapped[float | None] = mapped_column(Float)
    instance_count: Mapped[int | None] = mapped_column(Integer)
    orientation: Mapped[str | None] = mapped_column(String(16))
    selected: Mapped[bool] = mapped_column(Boolean, default=False)
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    study: Mapped[Study] = relationship(back_populates="series")


class ModelVersion(Base):
    """A registered model (name + version) with its weights' digest and card."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    architecture: Mapped[str | None] = mapped_column(String(128))
    threshold: Mapped[float] = mapped_column(Float)
    card: Mapped[dict[str, Any] | None] = mapped_column(json_type())
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Inference(Base):
    """Scores of one study by one model version (idempotent on that pair)."""

    __tablename__ = "inferences"
    __table_args__ = (
        UniqueConstraint("study_id", "model_version_id"),
        CheckConstraint("prob_any >= 0 AND prob_any <= 1", name="prob_any_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"))
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), index=True)
    probabilities: Mapped[dict[str, float]] = mapped_column(json_type())
    prob_any: Mapped[float] = mapped_column(Float, index=True)
    decision: Mapped[bool] = mapped_column(Boolean)
    threshold: Mapped[float] = mapped_column(Float)
    top_slices: Mapped[list[int] | None] = mapped_column(json_type())
    embedding: Mapped[list[float] | None] = mapped_column(json_type())
    compute_seconds: Mapped[float | None] = mapped_column(Float)
    latency_seconds: Mapped[float | None] = mapped_column(Float)
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    artifacts: Mapped[dict[str, str] | None] = mapped_column(json_type())
