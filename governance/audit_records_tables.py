"""Retention purges, legal holds and retired models' archives (migration 0008).

Declared apart from ``governance.tables`` so the schema arrives in its own
migration. ``audit_purge`` is what the database's audit guard reads: an audit
event may be deleted only when its sequence number is at or below the latest
recorded purge's ``up_to_seq``, and that row is written first, in the same
transaction as the deletion. All three tables are kept for good; the purge and
archive rows are append-only, a hold is released by filling its release fields.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from governance.tables import utc_now


class AuditPurge(SQLModel, table=True):
    """One retention purge: where the audit chain was cut and what was deleted.

    ``up_to_seq`` is the last deleted event's sequence number and ``last_hash``
    its hash, which the first remaining event's ``prev_hash`` equals; a purge
    that deleted no event repeats the previous cut (``0`` and the genesis hash
    before the first). ``counts`` maps each record class to the rows deleted.
    """

    __tablename__ = "audit_purge"

    id: int | None = Field(default=None, primary_key=True)
    up_to_seq: int = Field(index=True)
    last_hash: str = Field(max_length=64)
    as_of: date
    purged_by: str = Field(foreign_key="user_account.id", max_length=64)
    purged_at: datetime = Field(default_factory=utc_now)
    counts: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )


class LegalHold(SQLModel, table=True):
    """A legal hold: records a purge must keep, whatever their age.

    ``subject_type`` is ``model`` (``subject_id`` the model's name),
    ``model_version`` (the version's row id), ``compliance_report`` (the
    report's row id) or ``audit_log`` (``subject_id`` empty; ``held_from`` the
    first day of events held, every event from then on is kept).
    """

    __tablename__ = "legal_hold"
    __table_args__ = (Index("ix_legal_hold_subject", "subject_type", "subject_id"),)

    id: int | None = Field(default=None, primary_key=True)
    subject_type: str = Field(max_length=40)
    subject_id: str = Field(default="", max_length=200)
    held_from: date | None = None
    reason: str = Field(sa_column=Column(Text, nullable=False))
    placed_by: str = Field(foreign_key="user_account.id", max_length=64)
    placed_at: datetime = Field(default_factory=utc_now)
    released_by: str | None = Field(
        default=None, foreign_key="user_account.id", max_length=64
    )
    released_at: datetime | None = None
    release_reason: str | None = Field(default=None, sa_column=Column(Text))


class ModelArchive(SQLModel, table=True):
    """The archive written when a model was retired, with its SHA-256."""

    __tablename__ = "model_archive"

    id: int | None = Field(default=None, primary_key=True)
    model_name: str = Field(
        foreign_key="governed_model.name", index=True, max_length=200
    )
    path: str = Field(max_length=1000)
    sha256: str = Field(max_length=64)
    size_bytes: int
    created_by: str = Field(foreign_key="user_account.id", max_length=64)
    created_at: datetime = Field(default_factory=utc_now)
