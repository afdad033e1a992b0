"""Incidents' playbook steps and the review calendar's completions (migration 0006).

The incident itself is ``governance.tables.Incident``; 0006 adds its evidence
links, handling role and closure. Review tasks are not stored: they are computed
from the policy's cadence on demand, and only completions are written.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from governance.tables import utc_now


class IncidentStep(SQLModel, table=True):
    """One step of an incident's playbook, copied from the policy when it opened.

    ``status`` is ``open`` or ``done``; a reopened step goes back to ``open`` and
    its earlier completion stays in the audit trail. ``rollout_step_id`` links the
    rollback started from this step.
    """

    __tablename__ = "incident_step"
    __table_args__ = (UniqueConstraint("incident_id", "step"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    position: int
    step: str = Field(max_length=40)
    status: str = Field(default="open", max_length=20)
    done_by: str | None = Field(
        default=None, foreign_key="user_account.id", max_length=64
    )
    done_at: datetime | None = None
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    rollout_step_id: int | None = Field(default=None, foreign_key="rollout_step.id")


class ReviewCompletion(SQLModel, table=True):
    """A completed occurrence of a scheduled review.

    ``scope`` is the model's name for per-model reviews and ``console`` for the
    governance review of the whole console; ``period`` names the occurrence, e.g.
    ``2026-12-03``, ``2026-W49``, ``2026-12`` or ``2026-Q4``.
    """

    __tablename__ = "review_completion"
    __table_args__ = (
        UniqueConstraint("review", "scope", "period"),
        Index("ix_review_completion_completed_at", "completed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    review: str = Field(max_length=20)
    scope: str = Field(max_length=200)
    period: str = Field(max_length=20)
    due_on: date
    completed_by: str = Field(foreign_key="user_account.id", max_length=64)
    completed_at: datetime = Field(default_factory=utc_now)
    notes: str = Field(sa_column=Column(Text, nullable=False))
    findings: str = Field(default="", sa_column=Column(Text, nullable=False))
    policy_version: str = Field(max_length=40)
