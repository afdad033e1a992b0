"""Sign-off workflow: stage sign-offs, security assessments, change records,
approval requests and decisions, checklist ticks, rollout steps.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 16:08:53.200415
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("baseline_version_id", sa.Integer(), nullable=True),
        sa.Column(
            "computed_class",
            sqlmodel.sql.sqltypes.AutoString(length=20),
            nullable=False,
        ),
        sa.Column(
            "change_class", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False
        ),
        sa.Column("differences", sa.JSON(), nullable=True),
        sa.Column(
            "classified_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.Column("classified_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["baseline_version_id"],
            ["model_version.id"],
        ),
        sa.ForeignKeyConstraint(
            ["classified_by"],
            ["user_account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_version.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("change_record", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_change_record_model_version_id"),
            ["model_version_id"],
            unique=False,
        )

    op.create_table(
        "checklist_tick",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column(
            "checklist", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False
        ),
        sa.Column("item", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column(
            "ticked_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.Column("ticked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_version.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ticked_by"],
            ["user_account.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("model_version_id", "cycle", "checklist", "item"),
    )
    with op.batch_alter_table("checklist_tick", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_checklist_tick_model_version_id"),
            ["model_version_id"],
            unique=False,
        )

    op.create_table(
        "rollout_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column(
            "model_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False
        ),
        sa.Column("step", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("percentage", sa.Integer(), nullable=True),
        sa.Column("replaced_version_id", sa.Integer(), nullable=True),
        sa.Column(
            "performed_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.Column("performed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_name"],
            ["governed_model.name"],
        ),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_version.id"],
        ),
        sa.ForeignKeyConstraint(
            ["performed_by"],
            ["user_account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["replaced_version_id"],
            ["model_version.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("rollout_step", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rollout_step_model", ["model_name", "performed_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rollout_step_model_version_id"),
            ["model_version_id"],
            unique=False,
        )

    op.create_table(
        "security_assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=True),
        sa.Column("automated_checks", sa.JSON(), nullable=True),
        sa.Column("risk_score", sa.Float(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column(
            "assessed_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.Column("assessed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column(
            "policy_version",
            sqlmodel.sql.sqltypes.AutoString(length=40),
            nullable=False,
        ),
        sa.Column(
            "policy_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["assessed_by"],
            ["user_account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_version.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("security_assessment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_security_assessment_model_version_id"),
            ["model_version_id"],
            unique=False,
        )

    op.create_table(
        "stage_signoff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column(
            "signed_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.Column("signed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_version.id"],
        ),
        sa.ForeignKeyConstraint(
            ["signed_by"],
            ["user_account.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("model_version_id", "cycle", "kind"),
    )
    with op.batch_alter_table("stage_signoff", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stage_signoff_model_version_id"),
            ["model_version_id"],
            unique=False,
        )

    op.create_table(
        "workflow_state",
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column(
            "stage_entered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False
        ),
        sa.Column("stage_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_version.id"],
        ),
        sa.PrimaryKeyConstraint("model_version_id"),
    )
    op.create_table(
        "approval_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column(
            "status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False
        ),
        sa.Column(
            "requested_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.Column("requested_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.Column("risk_summary", sa.Text(), nullable=False),
        sa.Column("mitigation_plan", sa.Text(), nullable=True),
        sa.Column(
            "risk_level", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False
        ),
        sa.Column(
            "change_class", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False
        ),
        sa.Column("required_roles", sa.JSON(), nullable=True),
        sa.Column("run_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column(
            "artifact_digest",
            sqlmodel.sql.sqltypes.AutoString(length=64),
            nullable=True,
        ),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("security_assessment_id", sa.Integer(), nullable=True),
        sa.Column("change_record_id", sa.Integer(), nullable=True),
        sa.Column(
            "policy_version",
            sqlmodel.sql.sqltypes.AutoString(length=40),
            nullable=False,
        ),
        sa.Column(
            "policy_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.Column("resubmission_of", sa.Integer(), nullable=True),
        sa.Column("closed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column(
            "closed_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
        ),
        sa.Column("close_reason", sa.Text(), nullable=True),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessment.id"],
        ),
        sa.ForeignKeyConstraint(
            ["change_record_id"],
            ["change_record.id"],
        ),
        sa.ForeignKeyConstraint(
            ["closed_by"],
            ["user_account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_version.id"],
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["user_account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["resubmission_of"],
            ["approval_request.id"],
        ),
        sa.ForeignKeyConstraint(
            ["security_assessment_id"],
            ["security_assessment.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("approval_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_approval_request_model_version_id"),
            ["model_version_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_approval_request_status", ["status", "requested_at"], unique=False
        )

    op.create_table(
        "approval_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column(
            "approver_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column(
            "decision", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False
        ),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["approver_id"],
            ["user_account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["approval_request.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id", "approver_id"),
        sa.UniqueConstraint("request_id", "role"),
    )
    with op.batch_alter_table("approval_decision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_approval_decision_request_id"), ["request_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("approval_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_approval_decision_request_id"))

    op.drop_table("approval_decision")
    with op.batch_alter_table("approval_request", schema=None) as batch_op:
        batch_op.drop_index("ix_approval_request_status")
        batch_op.drop_index(batch_op.f("ix_approval_request_model_version_id"))

    op.drop_table("approval_request")
    op.drop_table("workflow_state")
    with op.batch_alter_table("stage_signoff", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stage_signoff_model_version_id"))

    op.drop_table("stage_signoff")
    with op.batch_alter_table("security_assessment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_security_assessment_model_version_id"))

    op.drop_table("security_assessment")
    with op.batch_alter_table("rollout_step", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rollout_step_model_version_id"))
        batch_op.drop_index("ix_rollout_step_model")

    op.drop_table("rollout_step")
    with op.batch_alter_table("checklist_tick", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checklist_tick_model_version_id"))

    op.drop_table("checklist_tick")
    with op.batch_alter_table("change_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_record_model_version_id"))

    op.drop_table("change_record")
