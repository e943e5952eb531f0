"""Metric and drift snapshots, alerts, weekly reports, the audit log and watermarks."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from ichsilent.domain import AlertSeverity
from ichsilent.errors import StoreError
from ichsilent.privacy import scrub_value
from ichsilent.store.models import (
    Alert,
    AuditEntry,
    DriftSnapshot,
    IngestionWatermark,
    MetricSnapshot,
    WeeklyReport,
)
from ichsilent.store.repositories._base import Repository, greatest, utcnow


class SnapshotRepository(Repository):
    """Computed metrics and drift tests, idempotent on window, scope, protocol and model."""

    def upsert_metric(
        self,
        *,
        window_kind: str,
        window_start: datetime,
        window_end: datetime,
        scope: str,
        metric: str,
        protocol_hash: str,
        model_version_id: int,
        value: float | None,
        n: int,
        computed_at: datetime,
        ci_low: float | None = None,
        ci_high: float | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> int:
        values: dict[str, Any] = {
            "window_kind": window_kind,
            "window_start": window_start,
            "window_end": window_end,
            "scope": scope,
            "metric": metric,
            "protocol_hash": protocol_hash,
            "model_version_id": model_version_id,
            "value": value,
            "ci_low": ci_low,
            "ci_high": ci_high,
            "n": n,
            "extra": dict(extra) if extra is not None else None,
            "computed_at": computed_at,
        }
        key = (
            "window_kind",
            "window_start",
            "window_end",
            "scope",
            "metric",
            "protocol_hash",
            "model_version_id",
        )
        return self._upsert(MetricSnapshot, values, key=key, touch=("computed_at",)).id

    def upsert_drift(
        self,
        *,
        window_start: datetime,
        window_end: datetime,
        feature: str,
        protocol_hash: str,
        model_version_id: int,
        method: str,
        drifted: bool,
        computed_at: datetime,
        statistic: float | None = None,
        threshold: float | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> int:
        values: dict[str, Any] = {
            "window_start": window_start,
            "window_end": window_end,
            "feature": feature,
            "protocol_hash": protocol_hash,
            "model_version_id": model_version_id,
            "method": method,
            "statistic": statistic,
            "threshold": threshold,
            "drifted": drifted,
            "details": dict(details) if details is not None else None,
            "computed_at": computed_at,
        }
        key = ("window_start", "window_end", "feature", "protocol_hash", "model_version_id")
        return self._upsert(DriftSnapshot, values, key=key, touch=("computed_at",)).id

    def metrics(self, *, model_version_id: int, metric: str | None = None) -> list[MetricSnapshot]:
        stmt = select(MetricSnapshot).where(MetricSnapshot.model_version_id == model_version_id)
        if metric is not None:
            stmt = stmt.where(MetricSnapshot.metric == metric)
        return list(self.session.scalars(stmt.order_by(MetricSnapshot.window_end)))


class AlertRepository(Repository):
    """Alerts keyed on rule, window and scope; acknowledgement survives re-runs."""

    def upsert_alert(
        self,
        *,
        rule: str,
        window_start: datetime,
        window_end: datetime,
        scope: str,
        severity: AlertSeverity,
        message: str,
        created_at: datetime,
    ) -> int:
        values: dict[str, Any] = {
            "rule": rule,
            "window_start": window_start,
            "window_end": window_end,
            "scope": scope,
            "severity": AlertSeverity(severity),
            "message": message,
            "created_at": created_at,
        }
        key = ("rule", "window_start", "window_end", "scope")
        return self._upsert(Alert, values, key=key, insert_only=("created_at",)).id

    def acknowledge(self, alert_id: int, *, by: str, at: datetime) -> bool:
        """Mark an alert seen; acknowledging twice keeps the first acknowledgement."""
        if self.session.get(Alert, alert_id) is None:
            raise StoreError(f"no alert with id {alert_id}")
        result = self.session.execute(
            update(Alert)
            .where(Alert.id == alert_id, Alert.acknowledged_at.is_(None))
            .values(acknowledged_at=at, acknowledged_by=by)
            .execution_options(synchronize_session="fetch")
        )
        return bool(getattr(result, "rowcount", 0))

    def open_alerts(self) -> list[Alert]:
        return list(
            self.session.scalars(
                select(Alert)
                .where(Alert.acknowledged_at.is_(None))
                .order_by(Alert.window_end, Alert.id)
                .execution_options(populate_existing=True)
            )
        )


def snapshot_digest(snapshot: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a report's data snapshot."""
    canonical = json.dumps(snapshot, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class WeeklyReportRepository(Repository):
    """Rendered weekly reports, one per ISO week and data cut-off."""

    def upsert_report(
        self,
        *,
        iso_week: str,
        data_cutoff: datetime,
        path: str,
        sha256: str,
        snapshot: Mapping[str, Any],
        created_at: datetime,
    ) -> int:
        values: dict[str, Any] = {
            "iso_week": iso_week,
            "data_cutoff": data_cutoff,
            "path": path,
            "sha256": sha256,
            "snapshot": dict(snapshot),
            "snapshot_hash": snapshot_digest(snapshot),
            "created_at": created_at,
        }
        return self._upsert(
            WeeklyReport, values, key=("iso_week", "data_cutoff"), touch=("created_at",)
        ).id

    def for_week(self, iso_week: str) -> list[WeeklyReport]:
        return list(
            self.session.scalars(
                select(WeeklyReport)
                .where(WeeklyReport.iso_week == iso_week)
                .order_by(WeeklyReport.data_cutoff)
            )
        )


class AuditRepository(Repository):
    """Append-only audit trail (the database refuses UPDATE and DELETE)."""

    def append(
        self,
        *,
        actor: str,
        action: str,
        entity: str,
        entity_id: str | None = None,
        details: Mapping[str, Any] | None = None,
        at: datetime | None = None,
        identifiers_to_scrub: Iterable[str] = (),
    ) -> int:
        known = tuple(identifiers_to_scrub)
        row = AuditEntry(
            at=at or utcnow(),
            actor=actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            details=scrub_value(dict(details), known) if details is not None else None,
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def entries(self, *, entity: str | None = None) -> list[AuditEntry]:
        stmt = select(AuditEntry)
        if entity is not None:
            stmt = stmt.where(AuditEntry.entity == entity)
        return list(self.session.scalars(stmt.order_by(AuditEntry.at, AuditEntry.id)))


class WatermarkRepository(Repository):
    """How far each source has been read. ``advance`` never moves a watermark back."""

    def get(self, source: str) -> datetime | None:
        return self.session.scalar(
            select(IngestionWatermark.watermark).where(IngestionWatermark.source == source)
        )

    def advance(self, source: str, to: datetime, *, at: datetime | None = None) -> datetime:
        """Move ``source`` forward to ``to`` (no-op when already there or beyond)."""
        session = self.session
        self._upsert(
            IngestionWatermark,
            {"source": source, "watermark": to, "updated_at": at or utcnow()},
            key=("source",),
            touch=("updated_at",),
            merge={"watermark": lambda t, ex: greatest(session, t.c.watermark, ex.watermark)},
        )
        current = self.get(source)
        if current is None:  # pragma: no cover - the upsert just wrote it
            raise StoreError(f"watermark of {source!r} vanished after it was written")
        return current
