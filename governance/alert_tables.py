"""Alerts and their deliveries through the configured channels (migration 0011).

An alert is a governance record: raising and acknowledging it are audited. A
delivery is the operational state of sending one alert through one channel
(e-mail or webhook); its attempts, errors and retry times change without an audit
event, and only its outcome (sent, or given up) is audited.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from governance.tables import utc_now


class Alert(SQLModel, table=True):
    """Something people with ``roles`` must look at: a trigger, an incident...

    ``status`` is ``open`` until someone holding one of ``roles`` acknowledges it.
    """

    __tablename__ = "alert"
    __table_args__ = (Index("ix_alert_status_raised", "status", "raised_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    severity: str = Field(max_length=20)
    title: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    roles: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    model_version_id: int | None = Field(
        default=None, foreign_key="model_version.id", index=True
    )
    source: str = Field(default="", max_length=200)
    raised_by: str = Field(foreign_key="user_account.id", max_length=64)
    raised_at: datetime = Field(default_factory=utc_now)
    status: str = Field(default="open", max_length=20)
    acknowledged_by: str | None = Field(
        default=None, foreign_key="user_account.id", max_length=64
    )
    acknowledged_at: datetime | None = None


class AlertDelivery(SQLModel, table=True):
    """Sending one alert through one channel, with its attempts.

    ``status`` moves ``pending`` -> ``sending`` (claimed by one deliverer until
    ``claimed_until``) -> ``sent``, or back to ``pending`` with ``next_attempt_at``
    after a failure, or to ``failed`` when the attempts are spent.
    """

    __tablename__ = "alert_delivery"
    __table_args__ = (
        UniqueConstraint("alert_id", "channel"),
        Index("ix_alert_delivery_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    channel: str = Field(max_length=20)
    destination: str = Field(default="", max_length=500)
    status: str = Field(default="pending", max_length=20)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    next_attempt_at: datetime = Field(default_factory=utc_now)
    claim_token: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = None
    created_at: datetime = Field(default_factory=utc_now)
    finished_at: datetime | None = None
