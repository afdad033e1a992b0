"""What waits for a person: the "my work" inbox, oldest first.

Built from the same records and permission table the actions check, so the inbox
never offers what the domain would refuse.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from governance.access import roles_of
from governance.operations_tables import RetrainingRequest
from governance.policy import Policy
from governance.store import read_session
from governance.tables import ModelVersion
from governance.workflow._state import (
    as_utc,
    current_cycle,
    latest_security_assessment,
    signoffs,
)
from governance.workflow.approvals import pending_request
from governance.workflow.checklists import gate_blockers, post_deployment_items
from governance.workflow.permissions import PERMISSIONS
from governance.workflow.rollout import rollout_plan, shadow_overstay, steps_taken
from governance.workflow.stages import ADVANCE_PERMISSION, SIGNOFFS, stage_blockers
from governance.workflow_tables import ApprovalDecision, ApprovalRequest, WorkflowState

if TYPE_CHECKING:
    from governance.operations.alerts import AlertView

logger = logging.getLogger(__name__)

# A sign-off offered only once the one it reviews exists.
PREREQUISITES = {"internal_review": ("documentation",)}
ACTIVE_STAGES = (
    "development",
    "risk_assessment",
    "compliance_check",
    "approval",
    "deployment",
    "production",
)


@dataclass(frozen=True)
class InboxItem:
    """One thing waiting for a person."""

    action: str
    what: str
    model_name: str
    version: str
    model_version_id: int
    waiting_since: datetime
    request_id: int | None = None


def inbox(engine: Engine, policy: Policy, user_id: str) -> list[InboxItem]:
    """Everything waiting for ``user_id`` under the roles they hold now, oldest first."""
    with read_session(engine) as session:
        roles = roles_of(session, user_id)
        may = {
            action for action, allowed in PERMISSIONS.items() if roles & set(allowed)
        }
        items = _decisions_waiting(session, user_id, roles)
        versions = session.exec(
            select(ModelVersion).where(col(ModelVersion.stage).in_(ACTIVE_STAGES))
        ).all()
        for version in versions:
            items.extend(_version_work(session, policy, version, user_id, may))
            items.extend(_shadow_work(session, policy, version, may))
        items.extend(_retraining_work(session, may))
    items.extend(_operations_work(engine, policy, roles))
    items.extend(_training_work(engine, policy, user_id))
    return sorted(items, key=lambda item: item.waiting_since)


def _operations_work(
    engine: Engine, policy: Policy, roles: set[str]
) -> list[InboxItem]:
    """Overdue reviews assigned to the roles, and incidents they handle."""
    # Imported here: governance.operations builds on this package.
    from governance.operations.calendar import overdue_reviews
    from governance.operations.incidents import incidents_waiting

    today = datetime.now(UTC).date()
    items = [
        InboxItem(
            "review.complete",
            f"Overdue: {task.title} for {task.period.label}"
            + (f" ({task.missed} missed)" if task.missed > 1 else ""),
            task.scope,
            "",
            0,
            task.overdue_since,
        )
        for task in overdue_reviews(engine, policy, today=today, roles=roles)
    ]
    items.extend(
        InboxItem(
            "incident.step",
            f"Incident {work.incident.id} ({work.incident.kind}, "
            f"{work.incident.severity}): {work.what}",
            work.incident.model_name,
            work.incident.version,
            work.incident.model_version_id,
            work.waiting_since,
        )
        for work in incidents_waiting(engine, roles)
    )
    return items


def _training_work(engine: Engine, policy: Policy, user_id: str) -> list[InboxItem]:
    """The person's own overdue training, waiting since its due date."""
    # Imported here: governance.records builds on the workflow's tables.
    from governance.records.training import overdue_training

    today = datetime.now(UTC).date()
    return [
        InboxItem(
            "training.complete",
            f"Overdue training: {course.course_title} (due {course.due_on}, "
            f"{course.reason})",
            "",
            "",
            0,
            datetime.combine(course.due_on, datetime.min.time(), tzinfo=UTC),
        )
        for course in overdue_training(engine, policy, today, user_id=user_id)
    ]


def _retraining_work(session: Session, may: set[str]) -> list[InboxItem]:
    """Open retraining requests: a version to link, or a request to follow."""
    rows = session.exec(
        select(RetrainingRequest, ModelVersion)
        .join(
            ModelVersion,
            col(ModelVersion.id) == col(RetrainingRequest.model_version_id),
        )
        .where(RetrainingRequest.status == "open")
    ).all()
    items = []
    for request, version in rows:
        if "retraining.link_version" in may and request.linked_version_id is None:
            what = f"Retrain: link the new version for retraining request {request.id}"
            action = "retraining.link_version"
        elif "retraining.decline" in may:
            what = f"Retraining request {request.id} is open: follow it or decline it"
            action = "retraining.decline"
        else:
            continue
        assert version.id is not None
        since = as_utc(request.opened_at)
        items.append(
            InboxItem(
                action, what, version.model_name, version.version, version.id, since
            )
        )
    return items


def open_alerts(engine: Engine, user_id: str) -> list[AlertView]:
    """The open alerts addressed to the roles ``user_id`` holds now, newest first."""
    # Imported here: governance.operations builds on this package.
    from governance.operations.alerts import alerts_for_person

    return alerts_for_person(engine, user_id, open_only=True)


def _decisions_waiting(
    session: Session, user_id: str, roles: set[str]
) -> list[InboxItem]:
    items = []
    pending = session.exec(
        select(ApprovalRequest, ModelVersion)
        .join(
            ModelVersion, col(ModelVersion.id) == col(ApprovalRequest.model_version_id)
        )
        .where(ApprovalRequest.status == "pending")
    ).all()
    for request, version in pending:
        decided = session.exec(
            select(ApprovalDecision).where(ApprovalDecision.request_id == request.id)
        ).all()
        if request.requested_by == user_id or any(
            d.approver_id == user_id for d in decided
        ):
            continue
        filled = {d.role for d in decided}
        fitting = [r for r in request.required_roles if r not in filled and r in roles]
        if fitting:
            items.append(
                InboxItem(
                    "approval.decide",
                    f"Decide approval request {request.id} as {fitting[0].replace('_', ' ')}",
                    version.model_name,
                    version.version,
                    request.model_version_id,
                    as_utc(request.requested_at),
                    request.id,
                )
            )
    return items


def _version_work(
    session: Session, policy: Policy, version: ModelVersion, user_id: str, may: set[str]
) -> list[InboxItem]:
    assert version.id is not None
    state = session.get(WorkflowState, version.id)
    since = as_utc(state.stage_entered_at if state else version.registered_at)
    todo = _todo(session, policy, version, user_id, may)
    return [
        InboxItem(action, what, version.model_name, version.version, version.id, since)
        for action, what in todo
    ]


def _shadow_work(
    session: Session, policy: Policy, version: ModelVersion, may: set[str]
) -> list[InboxItem]:
    """A version in shadow past the policy's maximum: promote it or roll it back."""
    if version.stage != "deployment" or "rollout.step" not in may:
        return []
    assert version.id is not None
    taken = steps_taken(session, version.id)
    overstay = shadow_overstay(policy, taken, datetime.now(UTC))
    if overstay is None:
        return []
    return [
        InboxItem(
            "rollout.step",
            overstay.describe(),
            version.model_name,
            version.version,
            version.id,
            overstay.since,
        )
    ]


def _todo(
    session: Session, policy: Policy, version: ModelVersion, user_id: str, may: set[str]
) -> list[tuple[str, str]]:
    assert version.id is not None
    cycle = current_cycle(session, version.id)
    done = signoffs(session, version.id, cycle)
    todo = [
        (permission, words[0].upper() + words[1:])
        for kind, (stage, permission, words) in SIGNOFFS.items()
        if stage == version.stage
        and kind not in done
        and permission in may
        and set(PREREQUISITES.get(kind, ())) <= set(done)
    ]
    advance = ADVANCE_PERMISSION.get(version.stage)
    if advance in may and not stage_blockers(session, version):
        todo.append((advance, f"Move on from {version.stage.replace('_', ' ')}"))
    if (
        version.stage == "risk_assessment"
        and "risk.security_assessment" in may
        and latest_security_assessment(session, version.id, cycle) is None
    ):
        todo.append(("risk.security_assessment", "Assess the version's security"))
    if (
        version.stage == "approval"
        and "approval.request" in may
        and pending_request(session, version.id) is None
    ):
        todo.append(("approval.request", "Request approval"))
    if version.stage == "deployment" and "rollout.step" in may:
        taken, plan = steps_taken(session, version.id), rollout_plan(policy)
        if len(taken) < len(plan) and not gate_blockers(session, version):
            todo.append(("rollout.step", f"Rollout: {plan[len(taken)].label}"))
    if version.stage in ("deployment", "production"):
        todo.extend(
            (f"post_deployment.{item.key}", f"Post-deployment: {item.title}")
            for item in post_deployment_items(session, version)
            if not item.is_done and f"post_deployment.{item.key}" in may
        )
    return [item for item in todo if item[0] in may]
