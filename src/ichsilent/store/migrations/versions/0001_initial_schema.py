"""Initial schema: studies, series, models, inferences, reports, cases, monitoring, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

Written for both SQLite and PostgreSQL. Enums are plain VARCHARs (the ORM validates the
values); JSON is JSONB on PostgreSQL; every timestamp is timezone-aware (UTC).
The audit log is append only: triggers refuse UPDATE and DELETE on both back ends.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _json() -> sa.types.TypeEngine:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


_SQLITE_AUDIT_TRIGGERS = [
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append only'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append only'); END""",
]
_POSTGRES_AUDIT_TRIGGERS = [
    """CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'audit_log is append only'; END $$""",
    """CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""",
]


def _create_audit_triggers() -> None:
    dialect = op.get_bind().dialect.name
    statements = _POSTGRES_AUDIT_TRIGGERS if dialect == "postgresql" else _SQLITE_AUDIT_TRIGGERS
    for statement in statements:
        op.execute(statement)


def _drop_audit_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("window_start", _ts(), nullable=False),
        sa.Column("window_end", _ts(), nullable=False),
        sa.Column("scope", sa.String(length=128), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("acknowledged_at", _ts(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint(
            "rule", "window_start", "window_end", "scope", name=op.f("uq_alerts_rule")
        ),
    )
    op.create_index(op.f("ix_alerts_window_end"), "alerts", ["window_end"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", _ts(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=128), nullable=True),
        sa.Column("details", _json(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)

    op.create_table(
        "ingestion_watermarks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("watermark", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingestion_watermarks")),
        sa.UniqueConstraint("source", name=op.f("uq_ingestion_watermarks_source")),
    )
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("architecture", sa.String(length=128), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("card", _json(), nullable=True),
        sa.Column("registered_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_versions")),
        sa.UniqueConstraint("name", "version", name=op.f("uq_model_versions_name")),
    )
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.String(length=128), nullable=False),
        sa.Column("accession_pseudo", sa.String(length=64), nullable=False),
        sa.Column("study_uid", sa.String(length=64), nullable=True),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("report_id", name=op.f("uq_reports_report_id")),
    )
    op.create_index(
        op.f("ix_reports_accession_pseudo"), "reports", ["accession_pseudo"], unique=False
    )
    op.create_index(op.f("ix_reports_study_uid"), "reports", ["study_uid"], unique=False)

    op.create_table(
        "studies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_uid", sa.String(length=64), nullable=False),
        sa.Column("accession_pseudo", sa.String(length=64), nullable=False),
        sa.Column("patient_pseudo", sa.String(length=64), nullable=False),
        sa.Column("age_years", sa.Integer(), nullable=True),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("patient_class", sa.String(length=1), nullable=True),
        sa.Column("site", sa.String(length=64), nullable=True),
        sa.Column("study_datetime", _ts(), nullable=True),
        sa.Column("modalities", _json(), nullable=True),
        sa.Column("body_part", sa.String(length=64), nullable=True),
        sa.Column("description", sa.String(length=256), nullable=True),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("reason_detail", sa.Text(), nullable=True),
        sa.Column("selected_series_uid", sa.String(length=64), nullable=True),
        sa.Column("instance_count", sa.Integer(), nullable=True),
        sa.Column("first_seen_at", _ts(), nullable=False),
        sa.Column("last_seen_at", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.Column("features", _json(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studies")),
        sa.UniqueConstraint("study_uid", name=op.f("uq_studies_study_uid")),
    )
    op.create_index(
        op.f("ix_studies_accession_pseudo"), "studies", ["accession_pseudo"], unique=False
    )
    op.create_index(op.f("ix_studies_patient_pseudo"), "studies", ["patient_pseudo"], unique=False)
    op.create_index(op.f("ix_studies_state"), "studies", ["state"], unique=False)
    op.create_index(op.f("ix_studies_study_datetime"), "studies", ["study_datetime"], unique=False)

    op.create_table(
        "weekly_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("iso_week", sa.String(length=8), nullable=False),
        sa.Column("data_cutoff", _ts(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("snapshot", _json(), nullable=True),
        sa.Column("snapshot_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weekly_reports")),
        sa.UniqueConstraint("iso_week", "data_cutoff", name=op.f("uq_weekly_reports_iso_week")),
    )
    op.create_table(
        "drift_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("window_start", _ts(), nullable=False),
        sa.Column("window_end", _ts(), nullable=False),
        sa.Column("feature", sa.String(length=128), nullable=False),
        sa.Column("protocol_hash", sa.String(length=64), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=64), nullable=False),
        sa.Column("statistic", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("drifted", sa.Boolean(), nullable=False),
        sa.Column("details", _json(), nullable=True),
        sa.Column("computed_at", _ts(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_drift_snapshots_model_version_id_model_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drift_snapshots")),
        sa.UniqueConstraint(
            "window_start",
            "window_end",
            "feature",
            "protocol_hash",
            "model_version_id",
            name=op.f("uq_drift_snapshots_window_start"),
        ),
    )
    op.create_index(
        op.f("ix_drift_snapshots_model_version_id"),
        "drift_snapshots",
        ["model_version_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_drift_snapshots_window_end"), "drift_snapshots", ["window_end"], unique=False
    )

    op.create_table(
        "inferences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("probabilities", _json(), nullable=False),
        sa.Column("prob_any", sa.Float(), nullable=False),
        sa.Column("decision", sa.Boolean(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("top_slices", _json(), nullable=True),
        sa.Column("embedding", _json(), nullable=True),
        sa.Column("compute_seconds", sa.Float(), nullable=True),
        sa.Column("latency_seconds", sa.Float(), nullable=True),
        sa.Column("scored_at", _ts(), nullable=False),
        sa.Column("artifacts", _json(), nullable=True),
        sa.CheckConstraint(
            "prob_any >= 0 AND prob_any <= 1", name=op.f("ck_inferences_prob_any_range")
        ),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_inferences_model_version_id_model_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["study_id"],
            ["studies.id"],
            name=op.f("fk_inferences_study_id_studies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inferences")),
        sa.UniqueConstraint("study_id", "model_version_id", name=op.f("uq_inferences_study_id")),
    )
    op.create_index(
        op.f("ix_inferences_model_version_id"), "inferences", ["model_version_id"], unique=False
    )
    op.create_index(op.f("ix_inferences_prob_any"), "inferences", ["prob_any"], unique=False)
    op.create_index(op.f("ix_inferences_scored_at"), "inferences", ["scored_at"], unique=False)

    op.create_table(
        "metric_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("window_kind", sa.String(length=16), nullable=False),
        sa.Column("window_start", _ts(), nullable=False),
        sa.Column("window_end", _ts(), nullable=False),
        sa.Column("scope", sa.String(length=128), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("protocol_hash", sa.String(length=64), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("ci_low", sa.Float(), nullable=True),
        sa.Column("ci_high", sa.Float(), nullable=True),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("extra", _json(), nullable=True),
        sa.Column("computed_at", _ts(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_metric_snapshots_model_version_id_model_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_snapshots")),
        sa.UniqueConstraint(
            "window_kind",
            "window_start",
            "window_end",
            "scope",
            "metric",
            "protocol_hash",
            "model_version_id",
            name=op.f("uq_metric_snapshots_window_kind"),
        ),
    )
    op.create_index(
        op.f("ix_metric_snapshots_model_version_id"),
        "metric_snapshots",
        ["model_version_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_metric_snapshots_window_end"), "metric_snapshots", ["window_end"], unique=False
    )

    op.create_table(
        "report_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_fk", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=1), nullable=False),
        sa.Column("observed_at", _ts(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("received_at", _ts(), nullable=False),
        sa.Column("labeler_version", sa.String(length=64), nullable=True),
        sa.Column("superseded", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_fk"],
            ["reports.id"],
            name=op.f("fk_report_revisions_report_fk_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_revisions")),
        sa.UniqueConstraint("report_fk", "revision", name=op.f("uq_report_revisions_report_fk")),
    )
    op.create_index(
        op.f("ix_report_revisions_observed_at"), "report_revisions", ["observed_at"], unique=False
    )

    op.create_table(
        "series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("series_uid", sa.String(length=64), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("modality", sa.String(length=16), nullable=True),
        sa.Column("description", sa.String(length=256), nullable=True),
        sa.Column("image_type", _json(), nullable=True),
        sa.Column("kernel", sa.String(length=64), nullable=True),
        sa.Column("slice_thickness", sa.Float(), nullable=True),
        sa.Column("instance_count", sa.Integer(), nullable=True),
        sa.Column("orientation", sa.String(length=16), nullable=True),
        sa.Column("selected", sa.Boolean(), nullable=False),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.ForeignKeyConstraint(
            ["study_id"],
            ["studies.id"],
            name=op.f("fk_series_study_id_studies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_series")),
        sa.UniqueConstraint("series_uid", name=op.f("uq_series_series_uid")),
    )
    op.create_index(op.f("ix_series_study_id"), "series", ["study_id"], unique=False)

    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("report_revision_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("reference", _json(), nullable=True),
        sa.Column("matched_at", _ts(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_cases_model_version_id_model_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["report_revision_id"],
            ["report_revisions.id"],
            name=op.f("fk_cases_report_revision_id_report_revisions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["study_id"], ["studies.id"], name=op.f("fk_cases_study_id_studies"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("study_id", "model_version_id", name=op.f("uq_cases_study_id")),
    )
    op.create_index(op.f("ix_cases_model_version_id"), "cases", ["model_version_id"], unique=False)
    op.create_index(op.f("ix_cases_outcome"), "cases", ["outcome"], unique=False)
    op.create_index(
        op.f("ix_cases_report_revision_id"), "cases", ["report_revision_id"], unique=False
    )

    op.create_table(
        "report_labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("evidence", _json(), nullable=True),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["report_revisions.id"],
            name=op.f("fk_report_labels_revision_id_report_revisions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_labels")),
        sa.UniqueConstraint("revision_id", "label", name=op.f("uq_report_labels_revision_id")),
    )
    op.create_table(
        "adjudications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.String(length=128), nullable=False),
        sa.Column("labels", _json(), nullable=False),
        sa.Column("cause", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_adjudications_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adjudications")),
    )
    op.create_index(op.f("ix_adjudications_case_id"), "adjudications", ["case_id"], unique=False)
    _create_audit_triggers()


def downgrade() -> None:
    _drop_audit_triggers()
    op.drop_index(op.f("ix_adjudications_case_id"), table_name="adjudications")

    op.drop_table("adjudications")
    op.drop_table("report_labels")
    op.drop_index(op.f("ix_cases_report_revision_id"), table_name="cases")
    op.drop_index(op.f("ix_cases_outcome"), table_name="cases")
    op.drop_index(op.f("ix_cases_model_version_id"), table_name="cases")

    op.drop_table("cases")
    op.drop_index(op.f("ix_series_study_id"), table_name="series")

    op.drop_table("series")
    op.drop_index(op.f("ix_report_revisions_observed_at"), table_name="report_revisions")

    op.drop_table("report_revisions")
    op.drop_index(op.f("ix_metric_snapshots_window_end"), table_name="metric_snapshots")
    op.drop_index(op.f("ix_metric_snapshots_model_version_id"), table_name="metric_snapshots")

    op.drop_table("metric_snapshots")
    op.drop_index(op.f("ix_inferences_scored_at"), table_name="inferences")
    op.drop_index(op.f("ix_inferences_prob_any"), table_name="inferences")
    op.drop_index(op.f("ix_inferences_model_version_id"), table_name="inferences")

    op.drop_table("inferences")
    op.drop_index(op.f("ix_drift_snapshots_window_end"), table_name="drift_snapshots")
    op.drop_index(op.f("ix_drift_snapshots_model_version_id"), table_name="drift_snapshots")

    op.drop_table("drift_snapshots")
    op.drop_table("weekly_reports")
    op.drop_index(op.f("ix_studies_study_datetime"), table_name="studies")
    op.drop_index(op.f("ix_studies_state"), table_name="studies")
    op.drop_index(op.f("ix_studies_patient_pseudo"), table_name="studies")
    op.drop_index(op.f("ix_studies_accession_pseudo"), table_name="studies")

    op.drop_table("studies")
    op.drop_index(op.f("ix_reports_study_uid"), table_name="reports")
    op.drop_index(op.f("ix_reports_accession_pseudo"), table_name="reports")

    op.drop_table("reports")
    op.drop_table("model_versions")
    op.drop_table("ingestion_watermarks")
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")

    op.drop_table("audit_log")
    op.drop_index(op.f("ix_alerts_window_end"), table_name="alerts")

    op.drop_table("alerts")
