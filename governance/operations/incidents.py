"""Incidents and their playbooks (framework, "Incident Response").

Anyone holding a role reports an incident on a model version; monitoring opens
one through `open_incident` inside its own unit of work. Each incident carries a
copy of its kind's playbook from the policy (``policy.incidents.playbooks``), one
row per step, worked **in order** by the kind's handling role: a threat is
contained before it is remediated and a root cause found before a fix. Each step
records who did it, when, and a note. Closing needs every step done; reopening
sends the steps from a chosen one back to open, with the reason audited. From the
playbook's rollback step the ML engineer can roll production back
(`governance.workflow.rollout.rollback`); the rollout step is linked to the
incident step.

Every change records its audit event on the incident, so the incident's timeline
is read from the audit trail.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from governance.access import ROLE_TITLES, require_role
from governance.audit import UnitOfWork, note_attempt, unit_of_work
from governance.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    WorkflowBlockedError,
)
from governance.incident_tables import IncidentStep as IncidentStepRow
from governance.policy import Policy
from governance.store import read_session
from governance.tables import AuditEvent, Incident, ModelVersion, User, utc_now
from governance.workflow._state import as_utc
from governance.workflow.permissions import require_permission
from governance.workflow_tables import RolloutStep

logger = logging.getLogger(__name__)

KINDS = ("performance", "bias", "security")
STEP_TITLES = {
    "detect": "Detect",
    "investigate_root_cause": "Investigate the root cause",
    "fix_or_roll_back": "Fix or roll back",
    "document": "Document the incident",
    "update_monitoring": "Update monitoring",
    "assess_impact": "Assess the impact",
    "mitigate": "Mitigate the disparity",
    "retrain_if_needed": "Retrain if needed",
    "update_fairness_monitoring": "Update fairness monitoring",
    "contain": "Contain the threat",
    "remediate": "Remediate",
    "post_incident_review": "Post-incident review",
}
# A console reference names a record of the console, e.g. ``audit:1234``,
# ``alert:7`` or ``model:lead-scoring/2``.
CONSOLE_REFERENCE = re.compile(
    r"^(audit|alert|assessment|monitoring|incident|model|rollout|report):"
    r"[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$"
)
MAX_LINK_CHARS = 2000


def step_title(step: str) -> str:
    """A playbook step as people read it."""
    return STEP_TITLES.get(step, step.replace("_", " ").capitalize())


@dataclass(frozen=True)
class StepView:
    """One playbook step as it stands."""

    step: str
    title: str
    position: int
    is_done: bool
    done_by: str | None
    done_at: datetime | None
    note: str
    rollout_step_id: int | None


@dataclass(frozen=True)
class IncidentView:
    """An incident with its model version and playbook."""

    id: int
    kind: str
    severity: str
    status: str
    description: str
    evidence_links: tuple[str, ...]
    model_name: str
    version: str
    model_version_id: int
    reported_by: str
    reported_at: datetime
    handled_by: str
    closed_at: datetime | None
    steps: tuple[StepView, ...]

    @property
    def is_open(self) -> bool:
        """Whether the incident is still being worked."""
        return self.status != "closed"

    @property
    def next_step(self) -> StepView | None:
        """The first step not done yet, the only one that can be done now."""
        return next((step for step in self.steps if not step.is_done), None)

    @property
    def steps_done(self) -> int:
        """How many steps are done."""
        return sum(step.is_done for step in self.steps)


@dataclass(frozen=True)
class TimelineEntry:
    """One audited event on an incident."""

    seq: int
    occurred_at: datetime
    actor: str
    action: str
    details: dict[str, Any]


def validate_description(text: str | None, policy: Policy) -> str:
    """The description stripped, or an InvalidInputError saying what to fix."""
    description = (text or "").strip()
    limit = policy.incidents.max_description_chars
    if not description:
        raise InvalidInputError(
            "The incident description is empty; say what happened, where and since "
            "when."
        )
    if len(description) > limit:
        raise InvalidInputError(
            f"The incident description has {len(description):,} characters; the "
            f"limit is {limit:,}. Summarise it and link the full material as "
            "evidence."
        )
    return description


def validate_evidence_links(links: Sequence[str], policy: Policy) -> list[str]:
    """Evidence links stripped, each an http(s) URL or a console reference.

    Raises
    ------
    InvalidInputError
        When a link is neither, is too long, or there are too many links.
    """
    cleaned = [link.strip() for link in links if link and link.strip()]
    limit = policy.incidents.max_evidence_links
    if len(cleaned) > limit:
        raise InvalidInputError(
            f"{len(cleaned)} evidence links were given; the limit is {limit}. Link a "
            "folder or a report that gathers them."
        )
    for link in cleaned:
        if not _is_valid_link(link):
            raise InvalidInputError(
                f"Evidence link {link[:80]!r} is neither an http(s) URL nor a console "
                "reference such as audit:1234, alert:7 or model:lead-scoring/2."
            )
    return list(dict.fromkeys(cleaned))


def _is_valid_link(link: str) -> bool:
    if len(link) > MAX_LINK_CHARS or any(ch.isspace() for ch in link):
        return False
    if CONSOLE_REFERENCE.match(link):
        return True
    parts = urlsplit(link)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def open_incident(
    work: UnitOfWork,
    *,
    model_version_id: int,
    kind: str,
    severity: str,
    description: str,
    evidence_links: Sequence[str],
    reported_by: str,
    policy: Policy | None = None,
    now: datetime | None = None,
) -> Incident:
    """Open an incident with its playbook inside the caller's unit of work.

    Checks no permission: monitoring calls it as the system account, and
    `report_incident` checks the reporter's role first.

    Parameters
    ----------
    policy
        The policy in force; loaded from ``GOVERNANCE_POLICY`` when omitted.

    Raises
    ------
    InvalidInputError
        Unknown kind or severity, an empty or too long description, a bad link.
    NotFoundError
        When the model version does not exist.
    """
    policy = policy or _policy_in_force()
    playbook, severity, text, links = _checked_report(
        policy, kind, severity, description, evidence_links
    )
    version = work.session.get(ModelVersion, model_version_id)
    if version is None:
        raise NotFoundError(
            f"No model version with id {model_version_id}; pick the affected version "
            "from the inventory."
        )

    incident = Incident(
        model_version_id=model_version_id,
        kind=kind,
        severity=severity,
        description=text,
        reported_by=reported_by,
        reported_at=as_utc(now or utc_now()),
        handled_by=playbook.handled_by,
        evidence_links=links,
        policy_version=policy.version,
    )
    work.session.add(incident)
    work.session.flush()
    assert incident.id is not None
    for position, step in enumerate(playbook.steps, start=1):
        work.session.add(
            IncidentStepRow(incident_id=incident.id, position=position, step=step)
        )
    work.record(
        actor_id=reported_by,
        action="incident.reported",
        entity_type="incident",
        entity_id=str(incident.id),
        payload={
            "model": version.model_name,
            "version": version.version,
            "kind": kind,
            "severity": severity,
            "evidence_links": links,
            "handled_by": playbook.handled_by,
            "policy_version": policy.version,
        },
    )
    logger.info(
        "Incident %s (%s, %s) opened on %s v%s",
        incident.id,
        kind,
        severity,
        version.model_name,
        version.version,
    )
    return incident


def _checked_report(
    policy: Policy,
    kind: str,
    severity: str,
    description: str,
    evidence_links: Sequence[str],
) -> tuple[Any, str, str, list[str]]:
    if kind not in policy.incidents.playbooks:
        raise InvalidInputError(
            f"Unknown incident kind {kind!r}; use one of {', '.join(KINDS)}."
        )
    if severity not in policy.incidents.severities:
        raise InvalidInputError(
            f"Unknown severity {severity!r}; use one of "
            f"{', '.join(policy.incidents.severities)}."
        )
    text = validate_description(description, policy)
    links = validate_evidence_links(evidence_links, policy)
    return policy.incidents.playbooks[kind], severity, text, links  # type: ignore[index]


def _policy_in_force() -> Policy:
    from governance.policy import load_policy
    from governance.settings import load_settings

    return load_policy(load_settings().policy_path)


def report_incident(
    engine: Engine,
    policy: Policy,
    *,
    actor_id: str,
    model_version_id: int,
    kind: str,
    severity: str,
    description: str,
    evidence_links: Sequence[str] = (),
    now: datetime | None = None,
) -> int:
    """A person reports an incident; any role may. Returns the incident's id."""
    with unit_of_work(engine) as work:
        require_permission(work.session, actor_id, "incident.report")
        incident = open_incident(
            work,
            model_version_id=model_version_id,
            kind=kind,
            severity=severity,
            description=description,
            evidence_links=evidence_links,
            reported_by=actor_id,
            policy=policy,
            now=now,
        )
        incident_id = incident.id
    assert incident_id is not None
    return incident_id


def complete_step(
    engine: Engine,
    policy: Policy,
    *,
    actor_id: str,
    incident_id: int,
    step: str,
    note: str,
    now: datetime | None = None,
) -> None:
    """Mark the playbook's next step done, with who, when and a note.

    Raises
    ------
    WorkflowBlockedError
        When an earlier step is still open, or the incident is closed.
    ConflictError
        When the step is already done (a second click).
    """
    text = _checked_note(note, policy, what="step note")
    with unit_of_work(engine) as work:
        incident = _load_for_handling(
            work.session, actor_id, incident_id, action="incident.step"
        )
        row = _next_open_step(work.session, incident, step)
        row.status, row.done_by, row.note = "done", actor_id, text
        row.done_at = as_utc(now or utc_now())
        work.session.add(row)
        work.record(
            actor_id=actor_id,
            action="incident.step_done",
            entity_type="incident",
            entity_id=str(incident_id),
            payload={"step": step, "position": row.position, "note": text},
        )


def start_rollback(
    engine: Engine,
    policy: Policy,
    *,
    actor_id: str,
    incident_id: int,
    reason: str,
    registry: Any = None,
    now: datetime | None = None,
) -> int:
    """Roll production back from the playbook's rollback step and link it.

    The rollback is the workflow's own (`governance.workflow.rollout.rollback`,
    which checks the ML engineer's permission and commits on its own); the link
    to the incident step is written right after, in a second transaction, with
    its audit event. Returns the rollout step's id.
    """
    from governance.workflow.rollout import rollback

    text = _checked_note(reason, policy, what="reason for the rollback")
    model_name, step = _rollback_target(engine, policy, actor_id, incident_id)
    restored = rollback(
        engine,
        actor_id=actor_id,
        model_name=model_name,
        reason=text,
        now=now,
        registry=registry,
    )

    with unit_of_work(engine) as work:
        rollout_step = work.session.exec(
            select(RolloutStep)
            .where(
                RolloutStep.model_version_id == restored,
                RolloutStep.step == "rollback",
            )
            .order_by(col(RolloutStep.id).desc())
            .limit(1)
        ).one()
        row = _step_row(work.session, incident_id, step)
        row.rollout_step_id = rollout_step.id
        work.session.add(row)
        work.record(
            actor_id=actor_id,
            action="incident.rollback_started",
            entity_type="incident",
            entity_id=str(incident_id),
            payload={
                "step": step,
                "rollout_step_id": rollout_step.id,
                "restored_version_id": restored,
                "replaced_version_id": rollout_step.replaced_version_id,
                "reason": text,
            },
        )
        linked = rollout_step.id
    assert linked is not None
    return linked


def _rollback_target(
    engine: Engine, policy: Policy, actor_id: str, incident_id: int
) -> tuple[str, str]:
    with read_session(engine) as session:
        incident = _load_for_handling(
            session, actor_id, incident_id, action="incident.rollback"
        )
        playbook = policy.incidents.playbooks.get(incident.kind)  # type: ignore[call-overload]
        step = playbook.rollback_step if playbook else None
        if step is None:
            raise WorkflowBlockedError(
                f"The {incident.kind} playbook has no rollback step; a rollback is "
                "started from a performance incident's 'fix or roll back' step."
            )
        _next_open_step(session, incident, step)
        version = session.get(ModelVersion, incident.model_version_id)
        assert version is not None
        return version.model_name, step


def close_incident(
    engine: Engine,
    policy: Policy,
    *,
    actor_id: str,
    incident_id: int,
    note: str = "",
    now: datetime | None = None,
) -> None:
    """Close an incident whose every playbook step is done."""
    text = (note or "").strip()
    if len(text) > policy.incidents.max_note_chars:
        _checked_note(text, policy, what="closing note")
    with unit_of_work(engine) as work:
        incident = _load_for_handling(
            work.session, actor_id, incident_id, action="incident.close"
        )
        open_steps = [
            row.step
            for row in _steps(work.session, incident_id)
            if row.status != "done"
        ]
        if open_steps:
            raise WorkflowBlockedError(
                f"Incident {incident_id} cannot be closed: "
                f"{len(open_steps)} playbook step(s) are still open "
                f"({', '.join(step_title(s) for s in open_steps)}). Do them first."
            )
        incident.status, incident.closed_at = "closed", as_utc(now or utc_now())
        work.session.add(incident)
        work.record(
            actor_id=actor_id,
            action="incident.closed",
            entity_type="incident",
            entity_id=str(incident_id),
            payload={"note": text},
        )


def reopen_incident(
    engine: Engine,
    policy: Policy,
    *,
    actor_id: str,
    incident_id: int,
    reason: str,
    from_step: str | None = None,
) -> None:
    """Reopen a closed incident; steps from ``from_step`` (the last by default) reopen.

    Their earlier completion stays in the audit trail.
    """
    text = _checked_note(reason, policy, what="reason for reopening")
    with unit_of_work(engine) as work:
        incident = _load_for_handling(
            work.session, actor_id, incident_id, action="incident.reopen", closed=True
        )
        rows = _steps(work.session, incident_id)
        first = from_step or rows[-1].step
        if first not in {row.step for row in rows}:
            raise InvalidInputError(
                f"The playbook has no step {first!r}; choose one of "
                f"{', '.join(row.step for row in rows)}."
            )
        start = next(row.position for row in rows if row.step == first)
        reopened = [row.step for row in rows if row.position >= start]
        for row in rows:
            if row.position >= start:
                row.status, row.done_by, row.done_at = "open", None, None
                row.note, row.rollout_step_id = "", None
                work.session.add(row)
        incident.status, incident.closed_at = "open", None
        work.session.add(incident)
        work.record(
            actor_id=actor_id,
            action="incident.reopened",
            entity_type="incident",
            entity_id=str(incident_id),
            payload={"reason": text, "reopened_steps": reopened},
        )


def _checked_note(note: str | None, policy: Policy, *, what: str) -> str:
    text = (note or "").strip()
    if not text:
        raise InvalidInputError(f"The {what} is empty; write what was done and found.")
    limit = policy.incidents.max_note_chars
    if len(text) > limit:
        raise InvalidInputError(
            f"The {what} has {len(text):,} characters; the limit is {limit:,}. "
            "Summarise it and link the full material as evidence."
        )
    return text


def _load_for_handling(
    session: Session,
    actor_id: str,
    incident_id: int,
    *,
    action: str,
    closed: bool = False,
) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFoundError(
            f"No incident with id {incident_id}; pick one from the incident list."
        )
    require_role_for(
        session,
        actor_id,
        _handling_role(incident),
        action=action,
        entity_type="incident",
        entity_id=str(incident_id),
    )
    if closed and incident.status != "closed":
        raise ConflictError(f"Incident {incident_id} is not closed; nothing to reopen.")
    if not closed and incident.status == "closed":
        raise WorkflowBlockedError(
            f"Incident {incident_id} is closed; reopen it before working it again."
        )
    return incident


def require_role_for(
    session: Session,
    actor_id: str,
    role: str,
    *,
    action: str,
    entity_type: str,
    entity_id: str,
) -> None:
    """`require_role`, with a refusal recorded against the record it was about.

    The unit of work records an ``access.denied`` event for the attempt noted last;
    noting it after the check names the action and the record, so the refusal
    shows on the incident's timeline.
    """
    try:
        require_role(session, actor_id, role)
    except PermissionDeniedError:
        note_attempt(
            session,
            actor_id=actor_id,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
        )
        raise


def _handling_role(incident: Incident) -> str:
    # Incidents opened before 0006 carry no role: security incidents stay with
    # the security officer, the rest with the ML engineer.
    if incident.handled_by:
        return incident.handled_by
    return "security_officer" if incident.kind == "security" else "ml_engineer"


def _steps(session: Session, incident_id: int) -> list[IncidentStepRow]:
    return list(
        session.exec(
            select(IncidentStepRow)
            .where(IncidentStepRow.incident_id == incident_id)
            .order_by(col(IncidentStepRow.position))
        ).all()
    )


def _step_row(session: Session, incident_id: int, step: str) -> IncidentStepRow:
    row = session.exec(
        select(IncidentStepRow).where(
            IncidentStepRow.incident_id == incident_id, IncidentStepRow.step == step
        )
    ).first()
    if row is None:
        steps = ", ".join(r.step for r in _steps(session, incident_id))
        raise InvalidInputError(
            f"Incident {incident_id}'s playbook has no step {step!r}; its steps are "
            f"{steps}."
        )
    return row


def _next_open_step(session: Session, incident: Incident, step: str) -> IncidentStepRow:
    assert incident.id is not None
    row = _step_row(session, incident.id, step)
    if row.status == "done":
        raise ConflictError(
            f"Step {step_title(step)!r} of incident {incident.id} is already done."
        )
    earlier = [
        r.step
        for r in _steps(session, incident.id)
        if r.position < row.position and r.status != "done"
    ]
    if earlier:
        raise WorkflowBlockedError(
            f"Playbook steps are worked in order: do "
            f"{', '.join(step_title(s) for s in earlier)} before "
            f"{step_title(step)!r}."
        )
    return row


def list_incidents(
    engine: Engine, *, include_closed: bool = False
) -> list[IncidentView]:
    """Incidents, open ones first by default, newest first."""
    with read_session(engine) as session:
        query = select(Incident).order_by(col(Incident.id).desc())
        if not include_closed:
            query = query.where(Incident.status != "closed")
        return [_view(session, incident) for incident in session.exec(query).all()]


def get_incident(engine: Engine, incident_id: int) -> IncidentView:
    """One incident with its playbook."""
    with read_session(engine) as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise NotFoundError(
                f"No incident with id {incident_id}; pick one from the incident list."
            )
        return _view(session, incident)


def _view(session: Session, incident: Incident) -> IncidentView:
    assert incident.id is not None
    version = session.get(ModelVersion, incident.model_version_id)
    assert version is not None
    steps = tuple(
        StepView(
            step=row.step,
            title=step_title(row.step),
            position=row.position,
            is_done=row.status == "done",
            done_by=_name(session, row.done_by),
            done_at=as_utc(row.done_at) if row.done_at else None,
            note=row.note,
            rollout_step_id=row.rollout_step_id,
        )
        for row in _steps(session, incident.id)
    )
    return IncidentView(
        id=incident.id,
        kind=incident.kind,
        severity=incident.severity,
        status=incident.status,
        description=incident.description,
        evidence_links=tuple(incident.evidence_links or ()),
        model_name=version.model_name,
        version=version.version,
        model_version_id=incident.model_version_id,
        reported_by=_name(session, incident.reported_by) or incident.reported_by,
        reported_at=as_utc(incident.reported_at),
        handled_by=_handling_role(incident),
        closed_at=as_utc(incident.closed_at) if incident.closed_at else None,
        steps=steps,
    )


def _name(session: Session, user_id: str | None) -> str | None:
    if user_id is None:
        return None
    user = session.get(User, user_id)
    return (user.display_name or user.username) if user else user_id


def incident_timeline(engine: Engine, incident_id: int) -> list[TimelineEntry]:
    """Every audited event on the incident, oldest first."""
    with read_session(engine) as session:
        events = session.exec(
            select(AuditEvent)
            .where(
                AuditEvent.entity_type == "incident",
                AuditEvent.entity_id == str(incident_id),
            )
            .order_by(col(AuditEvent.seq))
        ).all()
        return [
            TimelineEntry(
                seq=event.seq,
                occurred_at=as_utc(event.occurred_at),
                actor=_name(session, event.actor_id) or event.actor_id,
                action=event.action,
                details=json.loads(event.payload),
            )
            for event in events
        ]


def handling_role_title(incident: IncidentView) -> str:
    """The handling role as people read it."""
    return ROLE_TITLES.get(incident.handled_by, incident.handled_by)


def incidents_waiting(engine: Engine, roles: set[str]) -> list[IncidentWork]:
    """Open incidents whose handling role is among ``roles``, with what is next."""
    waiting = []
    for incident in list_incidents(engine):
        if incident.handled_by not in roles:
            continue
        done = [step.done_at for step in incident.steps if step.done_at is not None]
        since = max(done, default=incident.reported_at)
        following = incident.next_step
        what = (
            following.title
            if following is not None
            else "Close the incident (every step is done)"
        )
        waiting.append(IncidentWork(incident, what, since))
    return waiting


@dataclass(frozen=True)
class IncidentWork:
    """An incident waiting for its handling role, and what it waits for."""

    incident: IncidentView
    what: str
    waiting_since: datetime


def find_version_id(engine: Engine, model_name: str, version: str) -> int:
    """The id of ``model_name`` version ``version``, or a NotFoundError."""
    with read_session(engine) as session:
        found = session.exec(
            select(ModelVersion.id).where(
                ModelVersion.model_name == model_name,
                ModelVersion.version == version,
            )
        ).first()
    if found is None:
        raise NotFoundError(
            f"{model_name} has no version {version!r}; check the inventory for the "
            "affected version."
        )
    return found


def reportable_versions(engine: Engine) -> list[tuple[int, str]]:
    """Every model version as ``(id, "model version (stage)")``, production first."""
    with read_session(engine) as session:
        rows = session.exec(
            select(ModelVersion).order_by(
                col(ModelVersion.model_name), col(ModelVersion.id).desc()
            )
        ).all()
    ordered = sorted(rows, key=lambda row: row.stage != "production")
    return [
        (row.id, f"{row.model_name} {row.version} ({row.stage.replace('_', ' ')})")
        for row in ordered
        if row.id is not None
    ]


def incidents_table(incidents: Sequence[IncidentView]) -> dict[str, list[Any]]:
    """Incidents as table columns, for the page and reports."""
    return {
        "Id": [item.id for item in incidents],
        "Kind": [item.kind for item in incidents],
        "Severity": [item.severity for item in incidents],
        "Model": [f"{item.model_name} {item.version}" for item in incidents],
        "Status": [item.status for item in incidents],
        "Steps done": [f"{item.steps_done}/{len(item.steps)}" for item in incidents],
        "Handled by": [ROLE_TITLES[item.handled_by] for item in incidents],
        "Reported": [item.reported_at for item in incidents],
    }


def playbook_table(incident: IncidentView) -> dict[str, list[Any]]:
    """An incident's playbook steps as table columns: who, when, note, rollback."""
    steps = incident.steps
    return {
        "Step": [f"{step.position}. {step.title}" for step in steps],
        "Done": [step.is_done for step in steps],
        "By": [step.done_by or "" for step in steps],
        "At": [step.done_at for step in steps],
        "Note": [step.note for step in steps],
        "Rollback": [
            f"rollout step {step.rollout_step_id}" if step.rollout_step_id else ""
            for step in steps
        ],
    }


def timeline_table(timeline: Sequence[TimelineEntry]) -> dict[str, list[Any]]:
    """An incident's timeline as table columns, details as JSON text."""
    return {
        "#": [entry.seq for entry in timeline],
        "When": [entry.occurred_at for entry in timeline],
        "Who": [entry.actor for entry in timeline],
        "What": [entry.action for entry in timeline],
        "Details": [
            json.dumps(entry.details, ensure_ascii=False) for entry in timeline
        ],
    }
