"""Completion records of the framework's required training (migration 0010).

A completion is never edited or deleted: a correction is a new record, so the
table reads as the history of who completed which course when, and who said so.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from governance.tables import utc_now


class TrainingCompletion(SQLModel, table=True):
    """One person's completion of one required course on one day.

    ``completed_on`` is the day the course was completed (it may be recorded
    later); ``policy_version`` is the version installed on that day, or None for
    a completion older than the store's first installed policy. ``recorded_by``
    equals ``user_id`` for a self-declared completion and names the
    administrator otherwise.
    """

    __tablename__ = "training_completion"
    __table_args__ = (
        UniqueConstraint("user_id", "course", "completed_on"),
        Index("ix_training_completion_course", "course", "completed_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(foreign_key="user_account.id", index=True, max_length=64)
    course: str = Field(max_length=80)
    completed_on: date
    policy_version: str | None = Field(default=None, max_length=40)
    recorded_by: str = Field(foreign_key="user_account.id", max_length=64)
    recorded_at: datetime = Field(default_factory=utc_now)
