"""SQLAlchemy 2 typed ORM of the store. ``Base.metadata`` is what Alembic migrates to."""

from ichsilent.store.models.base import NAMING_CONVENTION, Base, UTCDateTime
from ichsilent.store.models.monitoring import (
    Alert,
    AuditEntry,
    DriftSnapshot,
    IngestionWatermark,
    MetricSnapshot,
    WeeklyReport,
)
from ichsilent.store.models.reports import Adjudication, Case, Report, ReportLabel, ReportRevision
from ichsilent.store.models.studies import Inference, ModelVersion, Series, Study

__all__ = [
    "NAMING_CONVENTION",
    "Adjudication",
    "Alert",
    "AuditEntry",
    "Base",
    "Case",
    "DriftSnapshot",
    "Inference",
    "IngestionWatermark",
    "MetricSnapshot",
    "ModelVersion",
    "Report",
    "ReportLabel",
    "ReportRevision",
    "Series",
    "Study",
    "UTCDateTime",
    "WeeklyReport",
]
