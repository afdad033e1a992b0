"""Training courses' completion records.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 18:50:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "training_completion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "user_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.Column(
            "course", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False
        ),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column(
            "policy_version", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True
        ),
        sa.Column(
            "recorded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.Column("recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["recorded_by"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "course", "completed_on"),
    )
    with op.batch_alter_table("training_completion", schema=None) as batch_op:
        batch_op.create_index(
            "ix_training_completion_course", ["course", "completed_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_training_completion_user_id"), ["user_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("training_completion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_completion_user_id"))
        batch_op.drop_index("ix_training_completion_course")

    op.drop_table("training_completion")
