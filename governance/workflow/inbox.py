"""What waits for a person: the "my work" inbox, oldest first.

Built from the same records and permission table the actions check, so the inbox
never offers what the domain would refuse.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from governance.access import roles_of
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
from governance.workflow.rollout import rollout_plan, steps_taken
from governance.workflow.stages import ADVANCE_PERMISSION, SIGNOFFS, stage_blockers
from governance.workflow_tables import ApprovalDecision, ApprovalRequest, WorkflowState

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
    return sorted(items, key=lambda item: item.waiting_since)


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
