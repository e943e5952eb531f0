"""Repositories: small classes over a Session with idempotent upserts on natural keys.

They never commit; wrap them in ``ichsilent.store.engine.session_scope``.
"""

from ichsilent.store.repositories._base import Upserted
from ichsilent.store.repositories.monitoring import (
    AlertRepository,
    AuditRepository,
    SnapshotRepository,
    WatermarkRepository,
    WeeklyReportRepository,
    snapshot_digest,
)
from ichsilent.store.repositories.reports import (
    AdjudicationRepository,
    CaseRepository,
    ReportRepository,
)
from ichsilent.store.repositories.studies import (
    InferenceRepository,
    ModelVersionRepository,
    SeriesRepository,
    StudyRepository,
)

__all__ = [
    "AdjudicationRepository",
    "AlertRepository",
    "AuditRepository",
    "CaseRepository",
    "InferenceRepository",
    "ModelVersionRepository",
    "ReportRepository",
    "SeriesRepository",
    "SnapshotRepository",
    "StudyRepository",
    "Upserted",
    "WatermarkRepository",
    "WeeklyReportRepository",
    "snapshot_digest",
]
