"""Alerts: raised by monitoring, incidents and the review calendar, shown to roles.

An alert names the roles that must look at it. Raising one stores it, records its
audit event and queues one delivery per configured channel, all inside the
caller's unit of work, so an alert exists exactly when the change that raised it
was saved. Delivery happens later (``governance.operations.delivery``); without a
channel configured the alert is still stored and shown in the app.

Anyone holding one of an alert's roles may acknowledge it; that is audited.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from governance.access import ROLE_TITLES, ROLES, SYSTEM_USER_ID, roles_of
from governance.alert_tables import Alert, AlertDelivery
from governance.audit import UnitOfWork, note_attempt, unit_of_work
from governance.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from governance.settings import Settings, load_settings
from governance.store import read_session
from governance.tables import User, utc_now

logger = logging.getLogger(__name__)

# The one place that says which alerts exist and how severe they can be.
ALERT_KINDS = (
    "retraining_trigger",  # monitoring: a retraining trigger of the policy fired
    "incident",  # an incident was reported or escalated
    "security",  # denied-action bursts, a broken audit chain
    "review_overdue",  # a review of the calendar is past due
)
SEVERITIES = ("low", "medium", "high", "critical")
OPEN, ACKNOWLEDGED = "open", "acknowledged"
MAX_TITLE_CHARS = 200
MAX_BODY_CHARS = 20_000


@dataclass(frozen=True)
class DeliveryStatus:
    """Where one alert's delivery through one channel stands."""

    channel: str
    destination: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None


@dataclass(frozen=True)
class AlertView:
    """An alert as the app and the CLI show it."""

    id: int
    kind: str
    severity: str
    title: str
    body: str
    roles: tuple[str, ...]
    model_version_id: int | None
    source: str
    raised_at: datetime
    status: str
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    deliveries: tuple[DeliveryStatus, ...]

    @property
    def is_open(self) -> bool:
        """Whether nobody has acknowledged the alert yet."""
        return self.status == OPEN

    @property
    def has_failed_delivery(self) -> bool:
        """Whether a channel gave up delivering the alert."""
        return any(item.status == "failed" for item in self.deliveries)

    @property
    def role_titles(self) -> str:
        """The alert's roles as a person reads them."""
        return ", ".join(ROLE_TITLES.get(role, role) for role in self.roles)


def raise_alert(
    work: UnitOfWork,
    *,
    kind: str,
    severity: str,
    title: str,
    body: str,
    roles: Sequence[str],
    model_version_id: int | None = None,
    source: str = "",
    actor_id: str = SYSTEM_USER_ID,
    settings: Settings | None = None,
) -> Alert:
    """Store an alert for ``roles``, audit it and queue its deliveries.

    Parameters
    ----------
    work
        The caller's unit of work; the alert commits or rolls back with it.
    kind, severity
        One of `ALERT_KINDS` and one of `SEVERITIES`.
    title, body
        What happened and what to do, as plain text (never rendered as HTML).
    roles
        The framework roles that must look at the alert.
    model_version_id
        The model version concerned, if any.
    source
        What raised it, e.g. ``"monitoring"`` or ``"incident:12"``.
    actor_id
        Who raised it; the system account by default (monitoring, schedulers).
    settings
        Where the channels are configured; read from the environment by default.

    Returns
    -------
    Alert
        The stored alert with its id, detached: readable after the commit.

    Raises
    ------
    InvalidInputError
        For an unknown kind, severity or role, no role, or an empty title.
    """
    wanted = _validated_roles(roles)
    _check_fields(kind, severity, title, body)
    channels = (settings or load_settings()).alert_channels

    alert = Alert(
        kind=kind,
        severity=severity,
        title=title.strip(),
        body=body.strip(),
        roles=list(wanted),
        model_version_id=model_version_id,
        source=source[:200],
        raised_by=actor_id,
    )
    work.session.add(alert)
    work.session.flush()
    assert alert.id is not None
    for channel, destination in channels.destinations().items():
        work.session.add(
            AlertDelivery(alert_id=alert.id, channel=channel, destination=destination)
        )

    work.record(
        actor_id=actor_id,
        action="alert.raised",
        entity_type="alert",
        entity_id=str(alert.id),
        payload={
            "kind": kind,
            "severity": severity,
            "title": alert.title,
            "roles": list(wanted),
            "model_version_id": model_version_id,
            "source": alert.source,
            "channels": sorted(channels.destinations()),
        },
    )
    logger.info("Alert %s raised (%s, %s) for %s", alert.id, kind, severity, wanted)
    # Detached, so that its fields stay readable after the caller's commit.
    work.session.expunge(alert)
    return alert


def _validated_roles(roles: Sequence[str]) -> tuple[str, ...]:
    if isinstance(roles, str):
        roles = [roles]
    wanted = tuple(dict.fromkeys(role.strip() for role in roles))
    unknown = [role for role in wanted if role not in ROLES]
    if unknown or not wanted:
        raise InvalidInputError(
            f"An alert needs at least one known role; got {list(roles)!r}. "
            f"Use some of {', '.join(ROLES)}."
        )
    return wanted


def _check_fields(kind: str, severity: str, title: str, body: str) -> None:
    if kind not in ALERT_KINDS:
        raise InvalidInputError(
            f"Unknown alert kind {kind!r}; use one of {', '.join(ALERT_KINDS)}."
        )
    if severity not in SEVERITIES:
        raise InvalidInputError(
            f"Unknown alert severity {severity!r}; use one of {', '.join(SEVERITIES)}."
        )
    if not title.strip() or len(title.strip()) > MAX_TITLE_CHARS:
        raise InvalidInputError(
            f"An alert's title must have 1 to {MAX_TITLE_CHARS} characters; "
            f"it has {len(title.strip())}."
        )
    if len(body) > MAX_BODY_CHARS:
        raise InvalidInputError(
            f"An alert's text must have at most {MAX_BODY_CHARS} characters; it has "
            f"{len(body)}. Link to the evidence instead of pasting it."
        )


def acknowledge_alert(engine: Engine, *, actor_id: str, alert_id: int) -> None:
    """Record that ``actor_id`` has seen alert ``alert_id`` and takes it on.

    Raises
    ------
    NotFoundError
        When there is no such alert.
    PermissionDeniedError
        When the actor is unknown, deactivated or holds none of the alert's roles.
    ConflictError
        When someone acknowledged it already.
    """
    with unit_of_work(engine) as work:
        note_attempt(
            work.session,
            actor_id=actor_id,
            action="alert.acknowledge",
            entity_type="alert",
            entity_id=str(alert_id),
        )
        alert = work.session.get(Alert, alert_id)
        if alert is None:
            raise NotFoundError(f"No alert with id {alert_id}; list them again.")
        _require_alert_role(work.session, actor_id, alert)
        if alert.status != OPEN:
            raise ConflictError(
                f"Alert {alert_id} was already acknowledged by "
                f"{_name(work.session, alert.acknowledged_by)}."
            )

        alert.status = ACKNOWLEDGED
        alert.acknowledged_by = actor_id
        alert.acknowledged_at = utc_now()
        work.session.add(alert)
        work.record(
            actor_id=actor_id,
            action="alert.acknowledged",
            entity_type="alert",
            entity_id=str(alert_id),
            payload={"kind": alert.kind, "severity": alert.severity},
        )


def _require_alert_role(session: Session, actor_id: str, alert: Alert) -> None:
    user = session.get(User, actor_id)
    if user is None or not user.is_active:
        raise PermissionDeniedError(
            f"User {actor_id} is unknown or deactivated; sign in with an active account."
        )
    if not roles_of(session, actor_id) & set(alert.roles):
        titles = " or ".join(ROLE_TITLES.get(role, role) for role in alert.roles)
        raise PermissionDeniedError(
            f"{user.display_name or user.username} cannot acknowledge alert "
            f"{alert.id}: it is addressed to the {titles}."
        )


def _name(session: Session, user_id: str | None) -> str:
    user = session.get(User, user_id) if user_id else None
    return (user.display_name or user.username) if user else "someone"


def alerts_for_person(
    engine: Engine, user_id: str, *, open_only: bool = True
) -> list[AlertView]:
    """The alerts addressed to the roles ``user_id`` holds now, newest first."""
    with read_session(engine) as session:
        held = roles_of(session, user_id)
        user = session.get(User, user_id)
        if user is None or not user.is_active or not held:
            return []
        rows = _alert_rows(session, open_only=open_only)
        mine = [row for row in rows if held & set(row.roles)]
        return _views(session, mine)


def list_alerts(
    engine: Engine, *, open_only: bool = False, limit: int = 500
) -> list[AlertView]:
    """Every alert (or the open ones), newest first, at most ``limit``."""
    with read_session(engine) as session:
        return _views(session, _alert_rows(session, open_only=open_only)[:limit])


def _alert_rows(session: Session, *, open_only: bool) -> list[Alert]:
    query = select(Alert).order_by(col(Alert.raised_at).desc(), col(Alert.id).desc())
    if open_only:
        query = query.where(Alert.status == OPEN)
    return list(session.exec(query).all())


def _views(session: Session, alerts: list[Alert]) -> list[AlertView]:
    ids = [alert.id for alert in alerts]
    deliveries: dict[int, list[DeliveryStatus]] = {}
    if ids:
        rows = session.exec(
            select(AlertDelivery)
            .where(col(AlertDelivery.alert_id).in_(ids))
            .order_by(col(AlertDelivery.channel))
        ).all()
        for row in rows:
            deliveries.setdefault(row.alert_id, []).append(_delivery_status(row))
    return [
        AlertView(
            id=alert.id,
            kind=alert.kind,
            severity=alert.severity,
            title=alert.title,
            body=alert.body,
            roles=tuple(alert.roles),
            model_version_id=alert.model_version_id,
            source=alert.source,
            raised_at=alert.raised_at,
            status=alert.status,
            acknowledged_by=alert.acknowledged_by,
            acknowledged_at=alert.acknowledged_at,
            deliveries=tuple(deliveries.get(alert.id, ())),
        )
        for alert in alerts
        if alert.id is not None
    ]


def _delivery_status(row: AlertDelivery) -> DeliveryStatus:
    waiting = row.status == "pending"
    return DeliveryStatus(
        channel=row.channel,
        destination=row.destination,
        status=row.status,
        attempts=row.attempts,
        last_error=row.last_error,
        next_attempt_at=row.next_attempt_at if waiting else None,
    )
