"""Compliance reports, per-version documents and training records (migration 0009)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from governance.tables import utc_now


class ComplianceReport(SQLModel, table=True):
    """A generated report or per-version document, kept as stored files.

    ``kind`` is a periodic report (``monthly_compliance``, ``quarterly_risk``) or a
    per-version document (``risk_assessment_report``,
    ``compliance_validation_report``, ``approval_record``); the files live under
    the evidence directory and their SHA-256 digests are kept here and audited.
    """

    __tablename__ = "compliance_report"
    __table_args__ = (Index("ix_compliance_report_kind", "kind", "period_start"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    title: str = Field(max_length=300)
    model_version_id: int | None = Field(
        default=None, foreign_key="model_version.id", index=True
    )
    period_start: date | None = None
    period_end: date | None = None
    html_path: str = Field(max_length=1000)
    pdf_path: str = Field(max_length=1000)
    html_sha256: str = Field(max_length=64)
    pdf_sha256: str = Field(max_length=64)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    policy_version: str = Field(max_length=40)
    created_by: str = Field(foreign_key="user_account.id", max_length=64)
    created_at: datetime = Field(default_factory=utc_now)
