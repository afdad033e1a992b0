"""Tables of the sign-off workflow.

Declared apart from ``governance.tables`` so the workflow's schema arrives in its
own migration (``0002_workflow``). Every row here is written inside a unit of work
together with its audit event; decisions and sign-offs are never updated in place
except for the fields that record their own outcome (a request's status).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from governance.tables import utc_now


class WorkflowState(SQLModel, table=True):
    """Where a model version stands in the workflow beyond its ``stage``.

    ``cycle`` counts the times the version was sent back to development; sign-offs
    and checklist ticks belong to one cycle, so a rejection asks for them again.
    """

    __tablename__ = "workflow_state"

    model_version_id: int = Field(foreign_key="model_version.id", primary_key=True)
    cycle: int = 1
    stage_entered_at: datetime = Field(default_factory=utc_now)
    stage_reason: str | None = Field(default=None, sa_column=Column(Text))


class StageSignoff(SQLModel, table=True):
    """A named person's sign-off on one step of a stage (e.g. internal review)."""

    __tablename__ = "stage_signoff"
    __table_args__ = (UniqueConstraint("model_version_id", "cycle", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    model_version_id: int = Field(foreign_key="model_version.id", index=True)
    cycle: int
    kind: str = Field(max_length=40)
    signed_by: str = Field(foreign_key="user_account.id", max_length=64)
    signed_at: datetime = Field(default_factory=utc_now)
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class SecurityAssessment(SQLModel, table=True):
    """The security officer's assessment: questionnaire, automated checks, score."""

    __tablename__ = "security_assessment"

    id: int | None = Field(default=None, primary_key=True)
    model_version_id: int = Field(foreign_key="model_version.id", index=True)
    cycle: int
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    automated_checks: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON)
    )
    risk_score: float
    passed: bool
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    assessed_by: str = Field(foreign_key="user_account.id", max_length=64)
    assessed_at: datetime = Field(default_factory=utc_now)
    policy_version: str = Field(max_length=40)
    policy_hash: str = Field(max_length=64)


class ChangeRecord(SQLModel, table=True):
    """A version's change class against the version in production."""

    __tablename__ = "change_record"

    id: int | None = Field(default=None, primary_key=True)
    model_version_id: int = Field(foreign_key="model_version.id", index=True)
    baseline_version_id: int | None = Field(
        default=None, foreign_key="model_version.id"
    )
    computed_class: str = Field(max_length=20)
    change_class: str = Field(max_length=20)
    differences: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON)
    )
    classified_by: str = Field(foreign_key="user_account.id", max_length=64)
    classified_at: datetime = Field(default_factory=utc_now)


class ApprovalRequest(SQLModel, table=True):
    """A data scientist's request to approve one version for deployment.

    The request binds the content being approved: run id, artifact digest, the
    assessment and security assessment, and the policy in force.
    """

    __tablename__ = "approval_request"
    __table_args__ = (Index("ix_approval_request_status", "status", "requested_at"),)

    id: int | None = Field(default=None, primary_key=True)
    model_version_id: int = Field(foreign_key="model_version.id", index=True)
    cycle: int
    status: str = Field(default="pending", max_length=20)
    requested_by: str = Field(foreign_key="user_account.id", max_length=64)
    requested_at: datetime = Field(default_factory=utc_now)
    purpose: str = Field(sa_column=Column(Text, nullable=False))
    changes: str = Field(sa_column=Column(Text, nullable=False))
    risk_summary: str = Field(sa_column=Column(Text, nullable=False))
    mitigation_plan: str | None = Field(default=None, sa_column=Column(Text))
    risk_level: str = Field(max_length=20)
    change_class: str = Field(max_length=20)
    required_roles: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    run_id: str | None = Field(default=None, max_length=64)
    artifact_digest: str | None = Field(default=None, max_length=64)
    assessment_id: int = Field(foreign_key="assessment.id")
    security_assessment_id: int | None = Field(
        default=None, foreign_key="security_assessment.id"
    )
    change_record_id: int | None = Field(default=None, foreign_key="change_record.id")
    policy_version: str = Field(max_length=40)
    policy_hash: str = Field(max_length=64)
    resubmission_of: int | None = Field(default=None, foreign_key="approval_request.id")
    closed_at: datetime | None = None
    closed_by: str | None = Field(
        default=None, foreign_key="user_account.id", max_length=64
    )
    close_reason: str | None = Field(default=None, sa_column=Column(Text))
    row_version: int = 1


class ApprovalDecision(SQLModel, table=True):
    """One approver's decision on a request, filling one role's slot.

    The unique constraints make the separation of duties hold in the database too:
    a slot is filled once, and one person fills at most one slot per request.
    """

    __tablename__ = "approval_decision"
    __table_args__ = (
        UniqueConstraint("request_id", "role"),
        UniqueConstraint("request_id", "approver_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="approval_request.id", index=True)
    approver_id: str = Field(foreign_key="user_account.id", max_length=64)
    role: str = Field(max_length=40)
    decision: str = Field(max_length=20)
    comment: str = Field(sa_column=Column(Text, nullable=False))
    decided_at: datetime = Field(default_factory=utc_now)


class ChecklistTick(SQLModel, table=True):
    """A checklist item ticked by a named person."""

    __tablename__ = "checklist_tick"
    __table_args__ = (
        UniqueConstraint("model_version_id", "cycle", "checklist", "item"),
    )

    id: int | None = Field(default=None, primary_key=True)
    model_version_id: int = Field(foreign_key="model_version.id", index=True)
    cycle: int
    checklist: str = Field(max_length=40)
    item: str = Field(max_length=60)
    ticked_by: str = Field(foreign_key="user_account.id", max_length=64)
    ticked_at: datetime = Field(default_factory=utc_now)
    note: str = Field(default="", sa_column=Column(Text, nullable=False))


class RolloutStep(SQLModel, table=True):
    """One step of a staged deployment, or a rollback."""

    __tablename__ = "rollout_step"
    __table_args__ = (Index("ix_rollout_step_model", "model_name", "performed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    model_version_id: int = Field(foreign_key="model_version.id", index=True)
    model_name: str = Field(foreign_key="governed_model.name", max_length=200)
    step: str = Field(max_length=40)
    percentage: int | None = None
    replaced_version_id: int | None = Field(
        default=None, foreign_key="model_version.id"
    )
    performed_by: str = Field(foreign_key="user_account.id", max_length=64)
    performed_at: datetime = Field(default_factory=utc_now)
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
