"""Monitoring side: metric and drift snapshots, alerts, weekly reports, audit, watermarks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ichsilent.domain import AlertSeverity
from ichsilent.store.models.base import Base, UTCDateTime, json_type, str_enum


class MetricSnapshot(Base):
    """One metric over one window and scope, under one protocol and model version."""

    __tablename__ = "metric_snapshots"
    __table_args__ = (
        UniqueConstraint(
            "window_kind",
            "window_start",
            "window_end",
            "scope",
            "metric",
            "protocol_hash",
            "model_version_id",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    window_kind: Mapped[str] = mapped_column(String(16))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    scope: Mapped[str] = mapped_column(String(128))
    metric: Mapped[str] = mapped_column(String(64))
    protocol_hash: Mapped[str] = mapped_column(String(64))
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), index=True)
    value: Mapped[float | None] = mapped_column(Float)
    ci_low: Mapped[float | None] = mapped_column(Float)
    ci_high: Mapped[float | None] = mapped_column(Float)
    n: Mapped[int] = mapped_column(Integer)
    extra: Mapped[dict[str, Any] | None] = mapped_column(json_type())
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DriftSnapshot(Base):
    """One drift test of one feature over one window against the protocol's reference."""

    __tablename__ = "drift_snapshots"
    __table_args__ = (
        UniqueConstraint(
            "window_start", "window_end", "feature", "protocol_hash", "model_version_id"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    feature: Mapped[str] = mapped_column(String(128))
    protocol_hash: Mapped[str] = mapped_column(String(64))
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), index=True)
    method: Mapped[str] = mapped_column(String(64))
    statistic: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    drifted: Mapped[bool] = mapped_column(Boolean)
    details: Mapped[dict[str, Any] | None] = mapped_column(json_type())
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Alert(Base):
    """A fired monitoring rule; acknowledging it never changes its key."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("rule", "window_start", "window_end", "scope"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(64))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    scope: Mapped[str] = mapped_column(String(128))
    severity: Mapped[AlertSeverity] = mapped_column(str_enum(AlertSeverity, 16))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(128))


class WeeklyReport(Base):
    """A rendered weekly PDF: where it is, its digest and the data it was made from."""

    __tablename__ = "weekly_reports"
    __table_args__ = (UniqueConstraint("iso_week", "data_cutoff"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    iso_week: Mapped[str] = mapped_column(String(8))  # e.g. 2025-W07
    data_cutoff: Mapped[datetime] = mapped_column(UTCDateTime)
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(json_type())
    snapshot_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """Who did what to which entity. Append only (database triggers refuse changes)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(128))
    details: Mapped[dict[str, Any] | None] = mapped_column(json_type())


class IngestionWatermark(Base):
    """How far one source (PACS, RIS) has been read; only ever moves forward."""

    __tablename__ = "ingestion_watermarks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(128), unique=True)
    watermark: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
