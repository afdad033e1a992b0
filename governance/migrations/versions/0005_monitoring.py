"""Monitoring: prediction-log locations, scored windows, triggers, retraining requests.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 18:30:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _time() -> sqlmodel.sql.sqltypes.UTCDateTime:
    return sqlmodel.sql.sqltypes.UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "prediction_log_location",
        sa.Column("model_name", _text(200), nullable=False),
        sa.Column("location", _text(1000), nullable=False),
        sa.Column("set_by", _text(64), nullable=False),
        sa.Column("set_at", _time(), nullable=False),
        sa.ForeignKeyConstraint(["model_name"], ["governed_model.name"]),
        sa.ForeignKeyConstraint(["set_by"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("model_name"),
    )
    op.create_table(
        "monitoring_window",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("window_start", _time(), nullable=False),
        sa.Column("window_end", _time(), nullable=False),
        sa.Column("label", _text(20), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("outcome_rows", sa.Integer(), nullable=False),
        sa.Column("auc", sa.Float(), nullable=True),
        sa.Column("precision", sa.Float(), nullable=True),
        sa.Column("recall", sa.Float(), nullable=True),
        sa.Column("score_psi", sa.Float(), nullable=True),
        sa.Column("max_feature_psi", sa.Float(), nullable=True),
        sa.Column("max_disparity", sa.Float(), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=True),
        sa.Column("log_source", _text(1100), nullable=False),
        sa.Column("scored_by", _text(64), nullable=False),
        sa.Column("scored_at", _time(), nullable=False),
        sa.Column("policy_version", _text(40), nullable=False),
        sa.Column("policy_hash", _text(64), nullable=False),
        sa.ForeignKeyConstraint(["model_version_id"], ["model_version.id"]),
        sa.ForeignKeyConstraint(["scored_by"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("model_version_id", "window_start"),
    )
    with op.batch_alter_table("monitoring_window", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_monitoring_window_model_version_id"),
            ["model_version_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_monitoring_window_time", ["window_start"], unique=False
        )
    op.create_table(
        "retraining_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_name", _text(200), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("status", _text(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("opened_by", _text(64), nullable=False),
        sa.Column("opened_at", _time(), nullable=False),
        sa.Column("linked_version_id", sa.Integer(), nullable=True),
        sa.Column("linked_by", _text(64), nullable=True),
        sa.Column("linked_at", _time(), nullable=True),
        sa.Column("closed_by", _text(64), nullable=True),
        sa.Column("closed_at", _time(), nullable=True),
        sa.Column("close_reason", sa.Text(), nullable=True),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["model_name"], ["governed_model.name"]),
        sa.ForeignKeyConstraint(["model_version_id"], ["model_version.id"]),
        sa.ForeignKeyConstraint(["linked_version_id"], ["model_version.id"]),
        sa.ForeignKeyConstraint(["opened_by"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["linked_by"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["closed_by"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("retraining_request", schema=None) as batch_op:
        batch_op.create_index(
            "ix_retraining_request_model", ["model_name", "status"], unique=False
        )
    op.create_table(
        "retraining_trigger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("window_id", sa.Integer(), nullable=True),
        sa.Column("kind", _text(40), nullable=False),
        sa.Column("subject", _text(200), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("fired_at", _time(), nullable=False),
        sa.ForeignKeyConstraint(["model_version_id"], ["model_version.id"]),
        sa.ForeignKeyConstraint(["window_id"], ["monitoring_window.id"]),
        sa.ForeignKeyConstraint(["request_id"], ["retraining_request.id"]),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("retraining_trigger", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_retraining_trigger_model_version_id"),
            ["model_version_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_retraining_trigger_request_id"),
            ["request_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("retraining_trigger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_retraining_trigger_request_id"))
        batch_op.drop_index(batch_op.f("ix_retraining_trigger_model_version_id"))
    op.drop_table("retraining_trigger")
    with op.batch_alter_table("retraining_request", schema=None) as batch_op:
        batch_op.drop_index("ix_retraining_request_model")
    op.drop_table("retraining_request")
    with op.batch_alter_table("monitoring_window", schema=None) as batch_op:
        batch_op.drop_index("ix_monitoring_window_time")
        batch_op.drop_index(batch_op.f("ix_monitoring_window_model_version_id"))
    op.drop_table("monitoring_window")
    op.drop_table("prediction_log_location")
