"""The console's tables.

Every table the console writes is declared here, once, and created only by the
Alembic migrations in ``governance/migrations``. Timestamps are timezone-aware UTC
on both databases; they are written and read back as UTC, which the audit chain's
hashes rely on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

_RECORD_CLOCK: ContextVar[Callable[[], datetime] | None] = ContextVar(
    "record_clock", default=None
)


def utc_now() -> datetime:
    """The time records are dated with: now in UTC, at microsecond precision.

    Only the demo changes it (`records_dated`), to date the history it seeds.
    Audit events and checkpoints take `wall_clock` instead, so the trail always
    holds the time each event was written.
    """
    clock = _RECORD_CLOCK.get()
    return clock() if clock is not None else datetime.now(UTC)


def wall_clock() -> datetime:
    """Now in UTC, whatever clock records are dated with."""
    return datetime.now(UTC)


@contextmanager
def records_dated(clock: Callable[[], datetime]) -> Iterator[None]:
    """Date the records written in this context (this thread) by ``clock``."""
    token = _RECORD_CLOCK.set(clock)
    try:
        yield
    finally:
        _RECORD_CLOCK.reset(token)


class User(SQLModel, table=True):
    """A person (or the system) who acts in the console.

    ``id`` is stable and opaque: the audit trail refers to it, so a person's name
    and e-mail can be erased without breaking the chain.
    """

    __tablename__ = "user_account"

    id: str = Field(primary_key=True, max_length=64)
    username: str = Field(unique=True, max_length=120)
    display_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    is_active: bool = True
    created_at: datetime = Field(default_factory=utc_now)


class RoleAssignment(SQLModel, table=True):
    """One of the framework's roles held by a user."""

    __tablename__ = "role_assignment"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(foreign_key="user_account.id", index=True, max_length=64)
    role: str = Field(max_length=40)
    granted_by: str = Field(foreign_key="user_account.id", max_length=64)
    granted_at: datetime = Field(default_factory=utc_now)


class InstalledPolicy(SQLModel, table=True):
    """A policy version that was installed, with its full text."""

    __tablename__ = "installed_policy"

    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(max_length=40)
    content_hash: str = Field(unique=True, max_length=64)
    content: str = Field(sa_column=Column(Text, nullable=False))
    installed_by: str = Field(foreign_key="user_account.id", max_length=64)
    installed_at: datetime = Field(default_factory=utc_now)


class AuditEvent(SQLModel, table=True):
    """One entry of the append-only, hash-chained audit trail.

    ``hash`` is the SHA-256 over this event's fields and ``prev_hash``; see
    ``governance.audit.event_hash``. The database refuses UPDATE and DELETE.
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_entity", "entity_type", "entity_id", "seq"),
        Index("ix_audit_event_actor", "actor_id", "seq"),
        Index("ix_audit_event_action", "action", "seq"),
        Index("ix_audit_event_time", "occurred_at"),
    )

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    occurred_at: datetime
    actor_id: str = Field(max_length=64)
    action: str = Field(max_length=80)
    entity_type: str = Field(max_length=40)
    entity_id: str = Field(max_length=200)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


class GovernedModel(SQLModel, table=True):
    """A registered model the console governs (one MLflow registered model)."""

    __tablename__ = "governed_model"

    name: str = Field(primary_key=True, max_length=200)
    description: str | None = Field(default=None, sa_column=Column(Text))
    owner_id: str = Field(foreign_key="user_account.id", max_length=64)
    is_retired: bool = False
    created_at: datetime = Field(default_factory=utc_now)
    # When the model was retired; its retention clock runs from here (migration 0008).
    retired_at: datetime | None = None


class ModelVersion(SQLModel, table=True):
    """One version of a governed model, with the data it was registered with."""

    __tablename__ = "model_version"
    __table_args__ = (UniqueConstraint("model_name", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    model_name: str = Field(
        foreign_key="governed_model.name", index=True, max_length=200
    )
    version: str = Field(max_length=40)
    run_id: str | None = Field(default=None, max_length=64)
    model_uri: str = Field(max_length=1000)
    algorithm: str | None = Field(default=None, max_length=200)
    stage: str = Field(default="development", max_length=40)
    data_spec: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    registered_by: str = Field(foreign_key="user_account.id", max_length=64)
    registered_at: datetime = Field(default_factory=utc_now)
    policy_version: str = Field(max_length=40)
    policy_hash: str = Field(max_length=64)
    row_version: int = 1


class Assessment(SQLModel, table=True):
    """The evidence computed for one model version at one time."""

    __tablename__ = "assessment"

    id: int | None = Field(default=None, primary_key=True)
    model_version_id: int = Field(foreign_key="model_version.id", index=True)
    run_id: str | None = Field(default=None, max_length=64)
    passed: bool
    risk_score: float | None = None
    risk_level: str | None = Field(default=None, max_length=20)
    evidence: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    artifact_dir: str | None = Field(default=None, max_length=1000)
    created_by: str = Field(foreign_key="user_account.id", max_length=64)
    created_at: datetime = Field(default_factory=utc_now)
    policy_version: str = Field(max_length=40)
    policy_hash: str = Field(max_length=64)


class Incident(SQLModel, table=True):
    """A performance, bias or security incident on a model version."""

    __tablename__ = "incident"

    id: int | None = Field(default=None, primary_key=True)
    model_version_id: int = Field(foreign_key="model_version.id", index=True)
    kind: str = Field(max_length=20)
    severity: str = Field(max_length=20)
    status: str = Field(default="open", max_length=20)
    description: str = Field(sa_column=Column(Text, nullable=False))
    reported_by: str = Field(foreign_key="user_account.id", max_length=64)
    reported_at: datetime = Field(default_factory=utc_now)
    # Added by migration 0006 (hence nullable): the playbook's handling role as the
    # policy named it when the incident opened, the evidence links, and closure.
    handled_by: str | None = Field(default=None, max_length=40)
    evidence_links: list[str] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    closed_at: datetime | None = None
    policy_version: str | None = Field(default=None, max_length=40)


class Job(SQLModel, table=True):
    """A background job (an assessment started from the app) and its progress.

    Progress is operational state, not a governance decision: the job's outcome
    (the assessment) is what the audit trail records.
    """

    __tablename__ = "job"

    id: str = Field(primary_key=True, max_length=40)
    kind: str = Field(max_length=40)
    subject: str = Field(max_length=200)
    status: str = Field(default="queued", max_length=20)
    progress: float = 0.0
    message: str = Field(default="", sa_column=Column(Text, nullable=False))
    result_id: int | None = None
    started_by: str = Field(foreign_key="user_account.id", max_length=64)
    started_at: datetime = Field(default_factory=utc_now)
    finished_at: datetime | None = None
