"""Compliance reports, per-version documents and training records.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 18:30:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _text(name: str, length: int, *, nullable: bool = False) -> sa.Column:
    return sa.Column(
        name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=nullable
    )


def upgrade() -> None:
    op.create_table(
        "compliance_report",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("kind", 40),
        _text("title", 300),
        sa.Column("model_version_id", sa.Integer(), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        _text("html_path", 1000),
        _text("pdf_path", 1000),
        _text("html_sha256", 64),
        _text("pdf_sha256", 64),
        sa.Column("summary", sa.Text(), nullable=False),
        _text("policy_version", 40),
        _text("created_by", 64),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["model_version_id"], ["model_version.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("compliance_report", schema=None) as batch_op:
        batch_op.create_index(
            "ix_compliance_report_kind", ["kind", "period_start"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_compliance_report_model_version_id"),
            ["model_version_id"],
            unique=False,
        )


def downgrade() -> None:
    op.drop_table("compliance_report")
