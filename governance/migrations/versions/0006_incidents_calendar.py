"""Incidents with playbook steps, and the review calendar.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 18:30:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "handled_by",
                sqlmodel.sql.sqltypes.AutoString(length=40),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("evidence_links", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("closed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "policy_version",
                sqlmodel.sql.sqltypes.AutoString(length=40),
                nullable=True,
            )
        )

    op.create_table(
        "incident_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("step", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column(
            "status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False
        ),
        sa.Column(
            "done_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
        ),
        sa.Column("done_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("rollout_step_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["done_by"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.ForeignKeyConstraint(["rollout_step_id"], ["rollout_step.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "step"),
    )
    with op.batch_alter_table("incident_step", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_step_incident_id"), ["incident_id"], unique=False
        )

    op.create_table(
        "review_completion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "review", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False
        ),
        sa.Column(
            "scope", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False
        ),
        sa.Column(
            "period", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False
        ),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column(
            "completed_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.Column("completed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column(
            "policy_version",
            sqlmodel.sql.sqltypes.AutoString(length=40),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["completed_by"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("review", "scope", "period"),
    )
    with op.batch_alter_table("review_completion", schema=None) as batch_op:
        batch_op.create_index(
            "ix_review_completion_completed_at", ["completed_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("review_completion", schema=None) as batch_op:
        batch_op.drop_index("ix_review_completion_completed_at")
    op.drop_table("review_completion")

    with op.batch_alter_table("incident_step", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_step_incident_id"))
    op.drop_table("incident_step")

    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_column("policy_version")
        batch_op.drop_column("closed_at")
        batch_op.drop_column("evidence_links")
        batch_op.drop_column("handled_by")
