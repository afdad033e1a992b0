"""Shadow and canary evidence read from prediction logs (migration 0007).

One row per computation: the rollout step it judges, the window of the log it
read, the metrics, the policy bounds it breached, and exactly which log content
it came from. Rows are written once, together with their audit event; a new
computation adds a row, and the promotion gate reads the latest one per step.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from governance.tables import utc_now


class ServingEvidence(SQLModel, table=True):
    """Shadow or canary evidence of one model version for one rollout step."""

    __tablename__ = "serving_evidence"
    __table_args__ = (
        Index(
            "ix_serving_evidence_step",
            "model_version_id",
            "phase",
            "canary_percentage",
            "id",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    model_version_id: int = Field(foreign_key="model_version.id")
    model_name: str = Field(foreign_key="governed_model.name", max_length=200)
    phase: str = Field(max_length=20)
    canary_percentage: int | None = None
    window_start: datetime
    window_end: datetime
    baseline_version: str | None = Field(default=None, max_length=40)
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    passed: bool
    breaches: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    log_path: str = Field(sa_column=Column(Text, nullable=False))
    log_sha256: str = Field(max_length=64)
    log_source: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    policy_version: str = Field(max_length=40)
    policy_hash: str = Field(max_length=64)
    created_by: str = Field(foreign_key="user_account.id", max_length=64)
    created_at: datetime = Field(default_factory=utc_now)
