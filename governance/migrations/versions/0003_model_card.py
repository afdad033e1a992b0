"""Model cards: one row per saved card version of a model version.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 16:30:30.480825
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_card",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("card_version", sa.Integer(), nullable=False),
        sa.Column("sections", sa.JSON(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=True),
        sa.Column(
            "edited_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column(
            "policy_version",
            sqlmodel.sql.sqltypes.AutoString(length=40),
            nullable=False,
        ),
        sa.Column(
            "policy_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.ForeignKeyConstraint(["assessment_id"], ["assessment.id"]),
        sa.ForeignKeyConstraint(["edited_by"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["model_version_id"], ["model_version.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("model_version_id", "card_version"),
    )
    with op.batch_alter_table("model_card", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_model_card_model_version_id"),
            ["model_version_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("model_card", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_card_model_version_id"))

    op.drop_table("model_card")
