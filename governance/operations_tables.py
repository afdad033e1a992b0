"""Monitoring: prediction-log locations, scored windows, triggers, retraining requests.

Declared apart from ``governance.tables`` so the schema arrives in its own
migration (``0005_monitoring``). Every row is written inside a unit of work with
its audit event.

A scored window keeps its headline numbers in columns (AUC, precision, recall,
score PSI, the largest feature PSI and disparity) so charts and the KPI page can
aggregate them in SQL, e.g. ``SELECT model_version_id, avg(auc) FROM
monitoring_window GROUP BY model_version_id``; the full detail (PSI per feature,
disparity per sensitive feature, messages) is in ``metrics``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from governance.tables import utc_now


class PredictionLogLocation(SQLModel, table=True):
    """Where the serving platform writes a governed model's prediction log."""

    __tablename__ = "prediction_log_location"

    model_name: str = Field(
        foreign_key="governed_model.name", primary_key=True, max_length=200
    )
    location: str = Field(max_length=1000)
    set_by: str = Field(foreign_key="user_account.id", max_length=64)
    set_at: datetime = Field(default_factory=utc_now)


class MonitoringWindow(SQLModel, table=True):
    """One production window of one model version, scored once.

    ``auc``, ``precision`` and ``recall`` are null when the window's performance
    was not measured (too few rows, no outcomes yet); ``metrics["messages"]`` says
    why.
    """

    __tablename__ = "monitoring_window"
    __table_args__ = (
        UniqueConstraint("model_version_id", "window_start"),
        Index("ix_monitoring_window_time", "window_start"),
    )

    id: int | None = Field(default=None, primary_key=True)
    model_version_id: int = Field(foreign_key="model_version.id", index=True)
    window_start: datetime
    window_end: datetime
    label: str = Field(max_length=20)
    rows: int
    outcome_rows: int
    auc: float | None = None
    precision: float | None = None
    recall: float | None = None
    score_psi: float | None = None
    max_feature_psi: float | None = None
    max_disparity: float | None = None
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    log_source: str = Field(max_length=1100)
    scored_by: str = Field(foreign_key="user_account.id", max_length=64)
    scored_at: datetime = Field(default_factory=utc_now)
    policy_version: str = Field(max_length=40)
    policy_hash: str = Field(max_length=64)


class RetrainingRequest(SQLModel, table=True):
    """A request to retrain a model, opened by a trigger; one open per model.

    ``status`` is ``open`` until the linked version reaches production
    (``completed``) or the model owner declines it (``declined``).
    """

    __tablename__ = "retraining_request"
    __table_args__ = (Index("ix_retraining_request_model", "model_name", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    model_name: str = Field(foreign_key="governed_model.name", max_length=200)
    model_version_id: int = Field(foreign_key="model_version.id")
    status: str = Field(default="open", max_length=20)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    opened_by: str = Field(foreign_key="user_account.id", max_length=64)
    opened_at: datetime = Field(default_factory=utc_now)
    linked_version_id: int | None = Field(default=None, foreign_key="model_version.id")
    linked_by: str | None = Field(
        default=None, foreign_key="user_account.id", max_length=64
    )
    linked_at: datetime | None = None
    closed_by: str | None = Field(
        default=None, foreign_key="user_account.id", max_length=64
    )
    closed_at: datetime | None = None
    close_reason: str | None = Field(default=None, sa_column=Column(Text))
    row_version: int = 1


class RetrainingTrigger(SQLModel, table=True):
    """A trigger of the policy that fired on a window (or on the schedule).

    ``alert_id`` and ``incident_id`` name what the trigger raised; the alert table
    arrives in a later migration, so ``alert_id`` carries no foreign key.
    """

    __tablename__ = "retraining_trigger"

    id: int | None = Field(default=None, primary_key=True)
    model_version_id: int = Field(foreign_key="model_version.id", index=True)
    window_id: int | None = Field(default=None, foreign_key="monitoring_window.id")
    kind: str = Field(max_length=40)
    subject: str = Field(max_length=200)
    value: float
    threshold: float
    description: str = Field(sa_column=Column(Text, nullable=False))
    request_id: int = Field(foreign_key="retraining_request.id", index=True)
    alert_id: int | None = None
    incident_id: int | None = Field(default=None, foreign_key="incident.id")
    fired_at: datetime = Field(default_factory=utc_now)
