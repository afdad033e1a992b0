"""Retraining requests: opened by triggers, answered by a new version, closed by it.

A fired trigger opens a retraining request for the model, or attaches to the one
already open (one open request per model). The request re-enters the workflow:
a data scientist links the version retrained for it (a version of the same model
registered after the request opened is linked automatically), that version's
change class is classified and approved through the ordinary workflow
(``governance.workflow.changes``), and the request completes when the linked
version reaches production. The model owner may decline it with a reason.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from governance.access import SYSTEM_USER_ID
from governance.audit import UnitOfWork, unit_of_work
from governance.errors import ConflictError, InvalidInputError, NotFoundError
from governance.operations.triggers import (
    DATA_DRIFT,
    FAIRNESS_VIOLATION,
    PERFORMANCE_DROP,
    SCHEDULED,
    TRIGGER_TITLES,
    FiredTrigger,
)
from governance.operations_tables import (
    MonitoringWindow,
    RetrainingRequest,
    RetrainingTrigger,
)
from governance.policy import Policy
from governance.settings import Settings
from governance.store import read_session
from governance.tables import ModelVersion, utc_now
from governance.workflow._state import as_utc, check_row_version, require_text
from governance.workflow.changes import latest_change_record
from governance.workflow.permissions import require_permission
from governance.workflow_tables import WorkflowState

logger = logging.getLogger(__name__)

OPEN, COMPLETED, DECLINED = "open", "completed", "declined"
# Stages a retrained version passes through before production.
IN_WORKFLOW = ("development", "risk_assessment", "compliance_check", "approval")
LINKABLE_STAGES = (*IN_WORKFLOW, "deployment")
ALERT_ROLES = ("data_scientist", "model_owner", "ml_engineer")
# The incident kind each trigger opens; the other triggers open none.
INCIDENT_KINDS = {PERFORMANCE_DROP: "performance", FAIRNESS_VIOLATION: "bias"}
SEVERITY = {
    PERFORMANCE_DROP: "high",
    FAIRNESS_VIOLATION: "high",
    DATA_DRIFT: "medium",
    SCHEDULED: "low",
}
SEVERITY_ORDER = ("high", "medium", "low")


@dataclass(frozen=True)
class TriggerView:
    """A trigger attached to a request, as the page shows it."""

    kind: str
    subject: str
    value: float
    threshold: float
    description: str
    window_label: str | None
    fired_at: datetime
    alert_id: int | None
    incident_id: int | None


@dataclass(frozen=True)
class RetrainingRequestView:
    """A retraining request with its triggers and the linked version's progress."""

    id: int
    model_name: str
    model_version_id: int
    version: str
    status: str
    reason: str
    opened_at: datetime
    linked_version: str | None
    linked_stage: str | None
    linked_change_class: str | None
    close_reason: str | None
    closed_at: datetime | None
    row_version: int
    triggers: tuple[TriggerView, ...]

    @property
    def is_open(self) -> bool:
        """Whether the request still waits for a retrained version or a decision."""
        return self.status == OPEN


def open_request_of(session: Session, model_name: str) -> RetrainingRequest | None:
    """The model's open retraining request, if any."""
    return session.exec(
        select(RetrainingRequest)
        .where(
            RetrainingRequest.model_name == model_name,
            RetrainingRequest.status == OPEN,
        )
        .order_by(col(RetrainingRequest.id))
        .limit(1)
    ).first()


def open_or_attach(
    work: UnitOfWork,
    *,
    version: ModelVersion,
    reason: str,
    actor_id: str,
    now: datetime | None = None,
) -> RetrainingRequest:
    """The model's open request, opened now (and audited) when there is none.

    Runs inside the caller's write transaction, whose lock makes the check and the
    insert one step: two monitoring runs cannot open two requests.
    """
    existing = open_request_of(work.session, version.model_name)
    if existing is not None:
        return existing
    assert version.id is not None
    request = RetrainingRequest(
        model_name=version.model_name,
        model_version_id=version.id,
        reason=reason,
        opened_by=actor_id,
        opened_at=now or utc_now(),
    )
    work.session.add(request)
    work.session.flush()
    work.record(
        actor_id=actor_id,
        action="retraining.requested",
        entity_type="retraining_request",
        entity_id=str(request.id),
        payload={
            "model": version.model_name,
            "version": version.version,
            "reason": reason,
        },
    )
    logger.info(
        "Retraining of %s requested (request %s)", version.model_name, request.id
    )
    return request


def link_version(
    engine: Engine,
    *,
    actor_id: str,
    request_id: int,
    version_id: int,
    expected_row_version: int | None = None,
) -> None:
    """Link the version retrained for an open request (a data scientist).

    Raises
    ------
    NotFoundError
        When the request or the version does not exist.
    InvalidInputError
        When the version belongs to another model or is not on its way to
        production.
    ConflictError
        When the request is closed or changed since it was read.
    """
    with unit_of_work(engine) as work:
        require_permission(work.session, actor_id, "retraining.link_version")
        request = _open_request(work.session, request_id, expected_row_version)
        version = _linkable(work.session, request, version_id)
        _link(work, request, version, actor_id=actor_id, automatic=False)


def decline_request(
    engine: Engine,
    *,
    actor_id: str,
    request_id: int,
    reason: str,
    expected_row_version: int | None = None,
) -> None:
    """Decline an open request, with the reason (the model owner)."""
    text = require_text(reason, field="reason for declining")
    with unit_of_work(engine) as work:
        require_permission(work.session, actor_id, "retraining.decline")
        request = _open_request(work.session, request_id, expected_row_version)
        _close(work, request, DECLINED, actor_id=actor_id, reason=text)


def reconcile_requests(engine: Engine, *, model_name: str | None = None) -> int:
    """Link newly registered versions and complete requests whose version shipped.

    Acts as the system account; each change is audited. Monitoring runs call this
    first, so requests follow the workflow without anyone closing them by hand.

    Returns
    -------
    int
        The number of requests changed.
    """
    changed = 0
    with unit_of_work(engine) as work:
        query = select(RetrainingRequest).where(RetrainingRequest.status == OPEN)
        if model_name is not None:
            query = query.where(RetrainingRequest.model_name == model_name)
        for request in work.session.exec(query).all():
            changed += _follow(work, request)
    return changed


def _follow(work: UnitOfWork, request: RetrainingRequest) -> int:
    changed = 0
    if request.linked_version_id is None:
        candidate = _newer_version(work.session, request)
        if candidate is None:
            return 0
        _link(work, request, candidate, actor_id=SYSTEM_USER_ID, automatic=True)
        changed = 1
    linked = work.session.get(ModelVersion, request.linked_version_id)
    if linked is not None and linked.stage == "production":
        _close(
            work,
            request,
            COMPLETED,
            actor_id=SYSTEM_USER_ID,
            reason=f"Version {linked.version} reached production.",
        )
        changed = 1
    return changed


def _newer_version(session: Session, request: RetrainingRequest) -> ModelVersion | None:
    versions = session.exec(
        select(ModelVersion)
        .where(
            ModelVersion.model_name == request.model_name,
            col(ModelVersion.stage).in_((*LINKABLE_STAGES, "production")),
            ModelVersion.id != request.model_version_id,
        )
        .order_by(col(ModelVersion.id).desc())
    ).all()
    opened = as_utc(request.opened_at)
    return next((v for v in versions if as_utc(v.registered_at) >= opened), None)


def _open_request(
    session: Session, request_id: int, expected_row_version: int | None
) -> RetrainingRequest:
    request = session.get(RetrainingRequest, request_id)
    if request is None:
        raise NotFoundError(
            f"No retraining request {request_id}; open the Monitoring page to see "
            "the model's requests."
        )
    if request.status != OPEN:
        raise ConflictError(
            f"Retraining request {request_id} is already {request.status}; nothing "
            "more can be done on it."
        )
    check_row_version(
        request, expected_row_version, what=f"Retraining request {request_id}"
    )
    return request


def _linkable(
    session: Session, request: RetrainingRequest, version_id: int
) -> ModelVersion:
    version = session.get(ModelVersion, version_id)
    if version is None:
        raise NotFoundError(f"No model version with id {version_id}.")
    if version.model_name != request.model_name:
        raise InvalidInputError(
            f"{version.model_name} version {version.version} is not a version of "
            f"{request.model_name}; link a version of the model being retrained."
        )
    if version.id == request.model_version_id or version.stage not in LINKABLE_STAGES:
        raise InvalidInputError(
            f"{version.model_name} version {version.version} is {version.stage}; link "
            "the new version registered for this request, before it reaches production."
        )
    return version


def _link(
    work: UnitOfWork,
    request: RetrainingRequest,
    version: ModelVersion,
    *,
    actor_id: str,
    automatic: bool,
) -> None:
    request.linked_version_id = version.id
    request.linked_by = actor_id
    request.linked_at = utc_now()
    request.row_version += 1
    work.session.add(request)
    work.record(
        actor_id=actor_id,
        action="retraining.version_linked",
        entity_type="retraining_request",
        entity_id=str(request.id),
        payload={
            "model": request.model_name,
            "version": version.version,
            "model_version_id": version.id,
            "automatic": automatic,
        },
    )


def _close(
    work: UnitOfWork,
    request: RetrainingRequest,
    status: str,
    *,
    actor_id: str,
    reason: str,
) -> None:
    request.status = status
    request.closed_by = actor_id
    request.closed_at = utc_now()
    request.close_reason = reason
    request.row_version += 1
    work.session.add(request)
    work.record(
        actor_id=actor_id,
        action=f"retraining.{status}",
        entity_type="retraining_request",
        entity_id=str(request.id),
        payload={"model": request.model_name, "status": status, "reason": reason},
    )
    logger.info("Retraining request %s %s: %s", request.id, status, reason)


def requests_of_model(engine: Engine, model_name: str) -> list[RetrainingRequestView]:
    """Every retraining request of the model, newest first, with its triggers."""
    with read_session(engine) as session:
        requests = session.exec(
            select(RetrainingRequest)
            .where(RetrainingRequest.model_name == model_name)
            .order_by(col(RetrainingRequest.id).desc())
        ).all()
        views = []
        for request in requests:
            rows = session.exec(
                select(RetrainingTrigger, MonitoringWindow.label)
                .outerjoin(
                    MonitoringWindow,
                    col(MonitoringWindow.id) == col(RetrainingTrigger.window_id),
                )
                .where(RetrainingTrigger.request_id == request.id)
                .order_by(col(RetrainingTrigger.id))
            ).all()
            views.append(_view(session, request, rows))
    return views


def _view(
    session: Session,
    request: RetrainingRequest,
    rows: Sequence[tuple[RetrainingTrigger, str | None]],
) -> RetrainingRequestView:
    assert request.id is not None
    version = session.get(ModelVersion, request.model_version_id)
    linked = (
        session.get(ModelVersion, request.linked_version_id)
        if request.linked_version_id
        else None
    )
    record = latest_change_record(session, linked.id) if linked and linked.id else None
    return RetrainingRequestView(
        id=request.id,
        model_name=request.model_name,
        model_version_id=request.model_version_id,
        version=version.version if version else "?",
        status=request.status,
        reason=request.reason,
        opened_at=as_utc(request.opened_at),
        linked_version=linked.version if linked else None,
        linked_stage=linked.stage if linked else None,
        linked_change_class=record.change_class if record else None,
        close_reason=request.close_reason,
        closed_at=as_utc(request.closed_at) if request.closed_at else None,
        row_version=request.row_version,
        triggers=tuple(
            TriggerView(
                kind=trigger.kind,
                subject=trigger.subject,
                value=trigger.value,
                threshold=trigger.threshold,
                description=trigger.description,
                window_label=label,
                fired_at=as_utc(trigger.fired_at),
                alert_id=trigger.alert_id,
                incident_id=trigger.incident_id,
            )
            for trigger, label in rows
        ),
    )


# What a fired trigger does ------------------------------------------------------


@dataclass(frozen=True)
class Firing:
    """Where fired triggers are delivered: the settings, the policy and the time."""

    settings: Settings
    policy: Policy
    now: datetime


def fire_triggers(
    work: UnitOfWork,
    firing: Firing,
    version: ModelVersion,
    window: MonitoringWindow | None,
    fired: list[FiredTrigger],
) -> None:
    """Record fired triggers: request, alert, incidents, all in ``work``.

    The triggers of one window (or of the schedule) join the model's open
    retraining request or open it, raise one alert for the roles concerned, and a
    performance drop or fairness violation opens an incident, once per request
    and kind (later triggers of that kind attach to the same incident).
    """
    if not fired:
        return
    where = f"in {window.label}" if window else "on the schedule"
    first = fired[0]
    request = open_or_attach(
        work,
        version=version,
        reason=f"{TRIGGER_TITLES[first.kind]} {where}: {first.description}",
        actor_id=SYSTEM_USER_ID,
        now=firing.now,
    )
    alert_id = _raise_alert(work, firing, version, window, fired, request)
    for trigger in fired:
        incident_id = _incident_for(
            work, firing, version, window, trigger, request, alert_id
        )
        row = RetrainingTrigger(
            model_version_id=version.id,  # type: ignore[arg-type]
            window_id=window.id if window else None,
            kind=trigger.kind,
            subject=trigger.subject,
            value=trigger.value,
            threshold=trigger.threshold,
            description=trigger.description,
            request_id=request.id,  # type: ignore[arg-type]
            alert_id=alert_id,
            incident_id=incident_id,
            fired_at=firing.now,
        )
        work.session.add(row)
        work.session.flush()
        work.record(
            actor_id=SYSTEM_USER_ID,
            action="retraining.trigger_fired",
            entity_type="retraining_request",
            entity_id=str(request.id),
            payload={
                "trigger_id": row.id,
                "kind": trigger.kind,
                "subject": trigger.subject,
                "value": trigger.value,
                "threshold": trigger.threshold,
                "window": window.label if window else None,
                "model_version_id": version.id,
                "alert_id": alert_id,
                "incident_id": incident_id,
            },
        )
        logger.info(
            "Trigger on %s %s: %s", version.model_name, where, trigger.description
        )


def _raise_alert(
    work: UnitOfWork,
    firing: Firing,
    version: ModelVersion,
    window: MonitoringWindow | None,
    fired: list[FiredTrigger],
    request: RetrainingRequest,
) -> int | None:
    from governance.operations.alerts import raise_alert

    kinds = sorted({TRIGGER_TITLES[item.kind].lower() for item in fired})
    severity = min((SEVERITY[item.kind] for item in fired), key=SEVERITY_ORDER.index)
    where = f"in {window.label}" if window else "on the schedule"
    alert = raise_alert(
        work,
        kind="retraining_trigger",
        severity=severity,
        title=f"{version.model_name} version {version.version}: "
        f"{', '.join(kinds)} {where}",
        body="\n".join(
            [
                *(f"- {item.description}" for item in fired),
                f"Retraining request {request.id} is open; see the Monitoring page.",
            ]
        ),
        roles=ALERT_ROLES,
        model_version_id=version.id,
        source=f"monitoring:{window.id}" if window else "monitoring:schedule",
        settings=firing.settings,
    )
    return alert.id


def _incident_for(
    work: UnitOfWork,
    firing: Firing,
    version: ModelVersion,
    window: MonitoringWindow | None,
    trigger: FiredTrigger,
    request: RetrainingRequest,
    alert_id: int | None,
) -> int | None:
    kind = INCIDENT_KINDS.get(trigger.kind)
    if kind is None:
        return None
    earlier = work.session.exec(
        select(RetrainingTrigger.incident_id).where(
            RetrainingTrigger.request_id == request.id,
            RetrainingTrigger.kind == trigger.kind,
            col(RetrainingTrigger.incident_id).is_not(None),
        )
    ).first()
    if earlier is not None:
        return earlier
    from governance.operations.incidents import open_incident

    links = [f"monitoring:{window.id}"] if window else []
    links += [f"alert:{alert_id}"] if alert_id else []
    incident = open_incident(
        work,
        model_version_id=version.id,  # type: ignore[arg-type]
        kind=kind,
        severity=SEVERITY[trigger.kind],
        description=(
            f"Opened by monitoring of {version.model_name} version {version.version}"
            f"{f' in {window.label}' if window else ''}: {trigger.description} "
            f"Retraining request {request.id}."
        ),
        evidence_links=links,
        reported_by=SYSTEM_USER_ID,
        policy=firing.policy,
        now=firing.now,
    )
    return incident.id


def schedule_start(session: Session, version: ModelVersion) -> datetime:
    """When the version's schedule last restarted.

    Its entry into production, the model's last retraining request or the
    version's last scheduled trigger, whichever is latest.
    """
    state = session.get(WorkflowState, version.id)
    moments = [as_utc(state.stage_entered_at if state else version.registered_at)]
    opened = session.exec(
        select(func.max(RetrainingRequest.opened_at)).where(
            RetrainingRequest.model_name == version.model_name
        )
    ).first()
    fired = session.exec(
        select(func.max(RetrainingTrigger.fired_at)).where(
            RetrainingTrigger.model_version_id == version.id,
            RetrainingTrigger.kind == SCHEDULED,
        )
    ).first()
    moments.extend(as_utc(moment) for moment in (opened, fired) if moment is not None)
    return max(moments)


def linkable_versions(engine: Engine, request_id: int) -> list[tuple[int, str]]:
    """(id, version) of the versions a request may be linked to, newest first."""
    with read_session(engine) as session:
        request = session.get(RetrainingRequest, request_id)
        if request is None:
            return []
        rows = session.exec(
            select(ModelVersion.id, ModelVersion.version)
            .where(
                ModelVersion.model_name == request.model_name,
                col(ModelVersion.stage).in_(LINKABLE_STAGES),
                ModelVersion.id != request.model_version_id,
            )
            .order_by(col(ModelVersion.id).desc())
        ).all()
    return [(row[0], row[1]) for row in rows if row[0] is not None]


def version_for_request(engine: Engine, request_id: int, version: str) -> int:
    """The id of ``version`` of the model a request is about.

    Raises
    ------
    NotFoundError
        When the request or that version does not exist.
    """
    with read_session(engine) as session:
        request = session.get(RetrainingRequest, request_id)
        if request is None:
            raise NotFoundError(f"No retraining request {request_id}.")
        found = session.exec(
            select(ModelVersion.id).where(
                ModelVersion.model_name == request.model_name,
                ModelVersion.version == version,
            )
        ).first()
    if found is None:
        raise NotFoundError(
            f"{request.model_name} has no version {version}; register it first."
        )
    return found
