"""Reference side: reports, their revisions and labels, matched cases, adjudications."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ichsilent.domain import Label, LabelState, Outcome, ReportStatus
from ichsilent.store.models.base import Base, UTCDateTime, json_type, str_enum


class Report(Base):
    """A radiology report, keyed by its (pseudonymised) report id."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[str] = mapped_column(String(128), unique=True)
    accession_pseudo: Mapped[str] = mapped_column(String(64), index=True)
    study_uid: Mapped[str | None] = mapped_column(String(64), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    revisions: Mapped[list[ReportRevision]] = relationship(
        back_populates="report",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ReportRevision.revision",
    )


class ReportRevision(Base):
    """One revision (P, F or C) of a report; text already scrubbed of identifiers."""

    __tablename__ = "report_revisions"
    __table_args__ = (UniqueConstraint("report_fk", "revision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_fk: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    status: Mapped[ReportStatus] = mapped_column(str_enum(ReportStatus, 1))
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    text: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    labeler_version: Mapped[str | None] = mapped_column(String(64))
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)

    report: Mapped[Report] = relationship(back_populates="revisions")
    labels: Mapped[list[ReportLabel]] = relationship(
        back_populates="revision", cascade="all, delete-orphan", passive_deletes=True
    )


class ReportLabel(Base):
    """What one revision says about one label, with the evidence spans."""

    __tablename__ = "report_labels"
    __table_args__ = (UniqueConstraint("revision_id", "label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("report_revisions.id", ondelete="CASCADE"))
    label: Mapped[Label] = mapped_column(str_enum(Label))
    state: Mapped[LabelState] = mapped_column(str_enum(LabelState))
    evidence: Mapped[list[dict[str, Any]] | None] = mapped_column(json_type())

    revision: Mapped[ReportRevision] = relationship(back_populates="labels")


class Case(Base):
    """A study's score matched with its reference report: one outcome per model version."""

    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("study_id", "model_version_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"))
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), index=True)
    report_revision_id: Mapped[int | None] = mapped_column(
        ForeignKey("report_revisions.id", ondelete="SET NULL"), index=True
    )
    outcome: Mapped[Outcome] = mapped_column(str_enum(Outcome), index=True)
    reference: Mapped[dict[str, str] | None] = mapped_column(json_type())
    matched_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Adjudication(Base):
    """A reviewer's decision on a discordant or uncertain case (append only)."""

    __tablename__ = "adjudications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    reviewer: Mapped[str] = mapped_column(String(128))
    labels: Mapped[dict[str, str]] = mapped_column(json_type())
    cause: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
