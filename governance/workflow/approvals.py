"""Approval requests and decisions (framework, "Stage 4: Approval").

A data scientist requests approval with the framework's approval request template
(purpose, changes, risk summary, and a mitigation plan where the policy requires
one). The request binds what is approved: the version, its run id, the artifact
digest, the assessment and security assessment, the change record and the policy
in force. Approvers fill one slot each, by role: by risk level for a critical
change or a new model, by change class otherwise (``policy.change_management``).

Separation of duties: the requester never decides their own request, whatever
roles they hold; one person fills at most one slot, so holding two roles counts
once; the table's unique constraints hold that in the database as well. There is
no bypass for any role.

Decisions take the request's ``row_version`` as read by the reviewer: of two
reviewers deciding at once, the second is told to reload.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from governance.assessment.risk import FACTOR_NAMES, aggregate_risk
from governance.audit import UnitOfWork, unit_of_work
from governance.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    StaleApprovalError,
    WorkflowBlockedError,
)
from governance.policy import Policy
from governance.store import read_session
from governance.tables import Assessment, InstalledPolicy, ModelVersion, utc_now
from governance.workflow._state import (
    artifact_digest_of,
    bump,
    check_row_version,
    current_cycle,
    latest_assessment,
    latest_security_assessment,
    load_version,
    require_text,
    set_stage,
)
from governance.workflow.changes import (
    change_approvers,
    latest_change_record,
    production_version,
)
from governance.workflow.permissions import require_permission
from governance.workflow_tables import (
    ApprovalDecision,
    ApprovalRequest,
    ChangeRecord,
    SecurityAssessment,
)

logger = logging.getLogger(__name__)

# Framework appendix, "Model approval request template".
APPROVAL_TEMPLATE = {
    "purpose": "Purpose: what the model is for and why this version should ship",
    "changes": "Changes: what changed against the version in production",
    "risk_summary": "Risk summary: risk level, what drove it, open findings",
    "mitigation_plan": "Risk mitigation plan (required where the policy says so)",
}
OPEN_STATUSES = ("pending",)
MATERIAL_CHANGE_CLASSES = ("major", "critical")


@dataclass(frozen=True)
class DecisionView:
    """One approver's decision."""

    approver_id: str
    role: str
    decision: str
    comment: str
    decided_at: datetime


@dataclass(frozen=True)
class RequestView:
    """An approval request as a reviewer sees it."""

    id: int
    model_version_id: int
    status: str
    requested_by: str
    requested_at: datetime
    purpose: str
    changes: str
    risk_summary: str
    mitigation_plan: str | None
    risk_level: str
    change_class: str
    required_roles: tuple[str, ...]
    open_roles: tuple[str, ...]
    decisions: tuple[DecisionView, ...]
    binding: dict[str, object]
    stale_reasons: tuple[str, ...]
    row_version: int
    resubmission_of: int | None = None

    @property
    def is_stale(self) -> bool:
        """Whether the evidence or version changed since the request bound it."""
        return bool(self.stale_reasons)


def approval_risk_level(
    policy: Policy, assessment: Assessment, security: SecurityAssessment | None
) -> str:
    """The risk level that sets the approvers.

    The assessment job leaves the security factor unassessed (counted as 1.0);
    when the evidence holds the five factors, the security assessment's score
    replaces it and the aggregate is taken again under the policy. Otherwise the
    assessment's own level stands.
    """
    risk = (assessment.evidence or {}).get("risk") or {}
    factors = risk.get("factors") or {}
    if security is not None and set(factors) == set(FACTOR_NAMES):
        scores = {**factors, "security": security.risk_score}
        return aggregate_risk(scores, policy).level
    level = risk.get("level") or assessment.risk_level
    if level not in policy.risk.approvers:
        raise InvalidInputError(
            f"Assessment {assessment.id} holds no risk level; assess the version again."
        )
    return str(level)


def required_approvers(
    policy: Policy, risk_level: str, change_class: str
) -> tuple[str, ...]:
    """The roles whose approval a request needs.

    A critical change (and a new model) takes the full workflow: the approvers of
    its risk level. A minor or major change takes the approvers of its class.
    """
    by_class = change_approvers(policy, change_class)
    if by_class is not None:
        return by_class
    return tuple(policy.risk.approvers[risk_level])  # type: ignore[index]


def request_approval(
    engine: Engine,
    *,
    actor_id: str,
    policy: Policy,
    version_id: int,
    purpose: str,
    changes: str,
    risk_summary: str,
    mitigation_plan: str | None = None,
    expected_row_version: int | None = None,
) -> int:
    """Submit a version in the approval stage for approval.

    Returns
    -------
    int
        The request's id.

    Raises
    ------
    ConflictError
        When a request for the version is already pending (a double submit), or
        the version changed since ``expected_row_version``.
    WorkflowBlockedError
        When the version is not in the approval stage, lacks evidence or a change
        classification.
    InvalidInputError
        When a template field is empty, or the mitigation plan is missing where
        the policy requires it.
    """
    texts = _template(purpose, changes, risk_summary)
    with unit_of_work(engine) as work:
        require_permission(work.session, actor_id, "approval.request")
        version = load_version(work.session, version_id)
        check_row_version(version, expected_row_version, what="The model version")
        row = _new_request(
            work,
            actor_id,
            policy,
            version,
            texts,
            mitigation_plan,
            resubmission_of=None,
        )
    return row


def resubmit_request(
    engine: Engine,
    *,
    actor_id: str,
    policy: Policy,
    request_id: int,
    purpose: str | None = None,
    changes: str | None = None,
    risk_summary: str | None = None,
    mitigation_plan: str | None = None,
) -> int:
    """Submit a rejected or withdrawn request again, bound to today's evidence.

    Fields left out keep the earlier request's text. The version must be back in
    the approval stage (after a rejection it passes the earlier stages again).
    """
    with unit_of_work(engine) as work:
        require_permission(work.session, actor_id, "approval.resubmit")
        earlier = _load_request(work.session, request_id)
        if earlier.status not in ("rejected", "withdrawn"):
            raise ConflictError(
                f"Request {request_id} is {earlier.status}; only a rejected or "
                "withdrawn request is resubmitted."
            )
        version = load_version(work.session, earlier.model_version_id)
        texts = _template(
            purpose or earlier.purpose,
            changes or earlier.changes,
            risk_summary or earlier.risk_summary,
        )
        plan = mitigation_plan or earlier.mitigation_plan
        return _new_request(
            work, actor_id, policy, version, texts, plan, resubmission_of=request_id
        )


def _template(purpose: str, changes: str, risk_summary: str) -> dict[str, str]:
    return {
        "purpose": require_text(purpose, field="purpose"),
        "changes": require_text(changes, field="description of the changes"),
        "risk_summary": require_text(risk_summary, field="risk summary"),
    }


def _new_request(
    work: UnitOfWork,
    actor_id: str,
    policy: Policy,
    version: ModelVersion,
    texts: dict[str, str],
    mitigation_plan: str | None,
    *,
    resubmission_of: int | None,
) -> int:
    session = work.session
    assert version.id is not None
    superseded = _stale_approval_to_replace(session, version)
    if version.stage != "approval" and superseded is None:
        raise WorkflowBlockedError(
            f"{version.model_name} version {version.version} is in {version.stage}; "
            "approval is requested once the compliance check is complete, or again "
            "when an approval went stale before production."
        )
    if pending_request(session, version.id) is not None:
        raise ConflictError(
            f"An approval request for {version.model_name} version {version.version} "
            "is already pending; it was submitted once."
        )
    cycle = current_cycle(session, version.id)
    assessment = latest_assessment(session, version.id)
    security = latest_security_assessment(session, version.id, cycle)
    if assessment is None or security is None:
        raise WorkflowBlockedError(
            "The version needs an assessment and a security assessment before approval."
        )
    change = _change_for(session, version)
    change_class = change.change_class if change else "critical"
    risk_level = approval_risk_level(policy, assessment, security)
    plan = (mitigation_plan or "").strip() or None
    if risk_level in policy.risk.mitigation_plan_required and plan is None:
        raise InvalidInputError(
            f"The version is {risk_level} risk; the policy requires a risk mitigation "
            "plan with the request. Write one and submit again."
        )

    request = ApprovalRequest(
        model_version_id=version.id,
        cycle=cycle,
        requested_by=actor_id,
        mitigation_plan=plan,
        risk_level=risk_level,
        change_class=change_class,
        required_roles=list(required_approvers(policy, risk_level, change_class)),
        run_id=version.run_id,
        artifact_digest=artifact_digest_of(assessment),
        assessment_id=assessment.id,  # type: ignore[arg-type]
        security_assessment_id=security.id,
        change_record_id=change.id if change else None,
        policy_version=policy.version,
        policy_hash=policy.content_hash,
        resubmission_of=resubmission_of,
        purpose=texts["purpose"],
        changes=texts["changes"],
        risk_summary=texts["risk_summary"],
    )
    session.add(request)
    if superseded is not None:
        _close(
            superseded, actor_id, "superseded", "approval went stale; requested again"
        )
        set_stage(
            work,
            actor_id=actor_id,
            version=version,
            stage="approval",
            reason=f"approval {superseded.id} went stale; approval requested again",
        )
    else:
        bump(work, version)
    session.flush()
    work.record(
        actor_id=actor_id,
        action="approval.requested",
        entity_type="approval_request",
        entity_id=str(request.id),
        payload={
            "model_version_id": version.id,
            "resubmission_of": resubmission_of,
            "required_roles": request.required_roles,
            **_binding(request),
        },
    )
    assert request.id is not None
    return request.id


def _stale_approval_to_replace(
    session: Session, version: ModelVersion
) -> ApprovalRequest | None:
    if version.stage != "deployment" or version.id is None:
        return None
    approved = approved_request(session, version.id)
    if approved is None or not stale_reasons(session, approved):
        return None
    return approved


def _change_for(session: Session, version: ModelVersion) -> ChangeRecord | None:
    assert version.id is not None
    change = latest_change_record(session, version.id)
    baseline = production_version(session, version.model_name)
    if change is None and baseline is not None:
        raise WorkflowBlockedError(
            f"{version.model_name} has version {baseline.version} in production; "
            "classify this version's change against it before requesting approval."
        )
    return change


def _binding(request: ApprovalRequest) -> dict[str, object]:
    return {
        "model_version_id": request.model_version_id,
        "run_id": request.run_id,
        "artifact_digest": request.artifact_digest,
        "assessment_id": request.assessment_id,
        "security_assessment_id": request.security_assessment_id,
        "change_record_id": request.change_record_id,
        "policy_version": request.policy_version,
        "policy_hash": request.policy_hash,
        "risk_level": request.risk_level,
        "change_class": request.change_class,
    }


def pending_request(session: Session, version_id: int) -> ApprovalRequest | None:
    """The version's pending approval request, if any."""
    return session.exec(
        select(ApprovalRequest).where(
            ApprovalRequest.model_version_id == version_id,
            col(ApprovalRequest.status).in_(OPEN_STATUSES),
        )
    ).first()


def _load_request(session: Session, request_id: int) -> ApprovalRequest:
    request = session.get(ApprovalRequest, request_id)
    if request is None:
        raise NotFoundError(f"No approval request with id {request_id}.")
    return request


def approve_request(
    engine: Engine,
    *,
    actor_id: str,
    request_id: int,
    expected_row_version: int,
    comment: str = "",
    as_role: str | None = None,
) -> str:
    """Approve a request in one of its open slots.

    Parameters
    ----------
    expected_row_version
        The request's ``row_version`` when the reviewer read it.
    as_role
        Which of the actor's roles to approve as, when several slots fit.

    Returns
    -------
    str
        The request's status afterwards: ``pending`` or ``approved``.
    """
    return _decide(
        engine, actor_id, request_id, expected_row_version, "approved", comment, as_role
    )


def reject_request(
    engine: Engine,
    *,
    actor_id: str,
    request_id: int,
    expected_row_version: int,
    comment: str,
    as_role: str | None = None,
) -> str:
    """Reject a request with a reason; the version returns to development."""
    text = require_text(comment, field="reason for rejecting")
    return _decide(
        engine, actor_id, request_id, expected_row_version, "rejected", text, as_role
    )


def _decide(
    engine: Engine,
    actor_id: str,
    request_id: int,
    expected_row_version: int,
    decision: str,
    comment: str,
    as_role: str | None,
) -> str:
    action = "approval.approve" if decision == "approved" else "approval.reject"
    with unit_of_work(engine) as work:
        held = require_permission(work.session, actor_id, action)
        request = _load_request(work.session, request_id)
        check_row_version(request, expected_row_version, what="The approval request")
        if request.status != "pending":
            raise ConflictError(
                f"Request {request_id} is already {request.status}; reload to see it."
            )
        role = _slot_for(work.session, request, actor_id, held, as_role)
        reasons = stale_reasons(work.session, request)
        if reasons:
            raise StaleApprovalError(
                f"Request {request_id} no longer matches the version: "
                f"{'; '.join(reasons)}. The data scientist must withdraw and resubmit it."
            )
        work.session.add(
            ApprovalDecision(
                request_id=request_id,
                approver_id=actor_id,
                role=role,
                decision=decision,
                comment=comment.strip(),
            )
        )
        request.row_version += 1
        work.session.add(request)
        work.session.flush()
        work.record(
            actor_id=actor_id,
            action=f"approval.{decision}",
            entity_type="approval_request",
            entity_id=str(request_id),
            payload={"role": role, "comment": comment.strip(), **_binding(request)},
        )
        status = _settle(work, actor_id, request, decision, comment)
    return status


def _slot_for(
    session: Session,
    request: ApprovalRequest,
    actor_id: str,
    held: set[str],
    as_role: str | None,
) -> str:
    if actor_id == request.requested_by:
        raise PermissionDeniedError(
            "Separation of duties: the person who requested an approval never "
            "decides it, whatever roles they hold. Ask another approver."
        )
    decisions = _decisions(session, request)
    if any(item.approver_id == actor_id for item in decisions):
        raise PermissionDeniedError(
            "Separation of duties: you already decided this request in one role; "
            "another person must fill the remaining roles."
        )
    filled = {item.role for item in decisions}
    open_roles = [role for role in request.required_roles if role not in filled]
    fitting = [role for role in open_roles if role in held]
    if as_role is not None:
        fitting = [role for role in fitting if role == as_role]
    if not fitting:
        raise PermissionDeniedError(
            f"This request waits for {', '.join(open_roles) or 'no one'}; "
            f"your roles ({', '.join(sorted(held))}) fill none of those slots."
        )
    return fitting[0]


def _settle(
    work: UnitOfWork,
    actor_id: str,
    request: ApprovalRequest,
    decision: str,
    comment: str,
) -> str:
    version = load_version(work.session, request.model_version_id)
    if decision == "rejected":
        _close(request, actor_id, "rejected", comment)
        set_stage(
            work,
            actor_id=actor_id,
            version=version,
            stage="development",
            reason=comment,
        )
        return "rejected"
    filled = {item.role for item in _decisions(work.session, request)}
    if set(request.required_roles) <= filled:
        _close(request, actor_id, "approved", None)
        set_stage(work, actor_id=actor_id, version=version, stage="deployment")
        return "approved"
    return "pending"


def _close(
    request: ApprovalRequest, actor_id: str, status: str, reason: str | None
) -> None:
    request.status = status
    request.closed_at = utc_now()
    request.closed_by = actor_id
    request.close_reason = reason


def withdraw_request(
    engine: Engine,
    *,
    actor_id: str,
    request_id: int,
    reason: str,
    expected_row_version: int | None = None,
) -> None:
    """Withdraw a pending request; only its requester may."""
    text = require_text(reason, field="reason for withdrawing")
    with unit_of_work(engine) as work:
        require_permission(work.session, actor_id, "approval.withdraw")
        request = _load_request(work.session, request_id)
        check_row_version(request, expected_row_version, what="The approval request")
        if request.requested_by != actor_id:
            raise PermissionDeniedError(
                "Only the person who requested an approval withdraws it."
            )
        if request.status != "pending":
            raise ConflictError(f"Request {request_id} is already {request.status}.")
        _close(request, actor_id, "withdrawn", text)
        request.row_version += 1
        work.session.add(request)
        work.record(
            actor_id=actor_id,
            action="approval.withdrawn",
            entity_type="approval_request",
            entity_id=str(request_id),
            payload={"reason": text},
        )


def close_pending_requests(
    work: UnitOfWork, actor_id: str, version_id: int, status: str, reason: str
) -> None:
    """Close the version's pending request (when the version leaves the workflow)."""
    request = pending_request(work.session, version_id)
    if request is None:
        return
    _close(request, actor_id, status, reason)
    request.row_version += 1
    work.session.add(request)
    work.record(
        actor_id=actor_id,
        action=f"approval.{status}",
        entity_type="approval_request",
        entity_id=str(request.id),
        payload={"reason": reason},
    )


def _decisions(session: Session, request: ApprovalRequest) -> list[ApprovalDecision]:
    return list(
        session.exec(
            select(ApprovalDecision)
            .where(ApprovalDecision.request_id == request.id)
            .order_by(col(ApprovalDecision.id))
        ).all()
    )


def stale_reasons(session: Session, request: ApprovalRequest) -> list[str]:
    """Why a request's binding no longer matches the version, in words."""
    version = load_version(session, request.model_version_id)
    reasons = []
    assessment = latest_assessment(session, request.model_version_id)
    if assessment is not None and assessment.id != request.assessment_id:
        reasons.append(
            f"a newer assessment ({assessment.id}) replaced the one approved "
            f"({request.assessment_id})"
        )
    digest = artifact_digest_of(assessment)
    if digest != request.artifact_digest:
        reasons.append("the model artifacts' digest changed")
    if version.run_id != request.run_id:
        reasons.append(f"the run changed from {request.run_id} to {version.run_id}")
    security = latest_security_assessment(session, request.model_version_id)
    if security is not None and security.id != request.security_assessment_id:
        reasons.append("a newer security assessment was recorded")
    reasons.extend(_material_changes(session, request))
    installed = session.exec(
        select(InstalledPolicy).order_by(col(InstalledPolicy.id).desc()).limit(1)
    ).first()
    if installed is not None and installed.content_hash != request.policy_hash:
        reasons.append(
            f"the policy changed from {request.policy_version} to {installed.version}"
        )
    return reasons


def _material_changes(session: Session, request: ApprovalRequest) -> list[str]:
    later = session.exec(
        select(ChangeRecord).where(
            ChangeRecord.model_version_id == request.model_version_id,
            col(ChangeRecord.id) > (request.change_record_id or 0),
            col(ChangeRecord.change_class).in_(MATERIAL_CHANGE_CLASSES),
        )
    ).all()
    return [
        f"a {row.change_class} change was recorded after the request ({row.id})"
        for row in later
    ]


def approved_request(session: Session, version_id: int) -> ApprovalRequest | None:
    """The version's approved request in its current cycle, if any."""
    return session.exec(
        select(ApprovalRequest)
        .where(
            ApprovalRequest.model_version_id == version_id,
            ApprovalRequest.cycle == current_cycle(session, version_id),
            ApprovalRequest.status == "approved",
        )
        .order_by(col(ApprovalRequest.id).desc())
        .limit(1)
    ).first()


def get_request(engine: Engine, request_id: int) -> RequestView:
    """A request with its decisions, open slots and staleness."""
    with read_session(engine) as session:
        request = _load_request(session, request_id)
        return _view(session, request)


def requests_of_version(engine: Engine, version_id: int) -> list[RequestView]:
    """Every request of a version, newest first."""
    with read_session(engine) as session:
        rows = session.exec(
            select(ApprovalRequest)
            .where(ApprovalRequest.model_version_id == version_id)
            .order_by(col(ApprovalRequest.id).desc())
        ).all()
        return [_view(session, row) for row in rows]


def _view(session: Session, request: ApprovalRequest) -> RequestView:
    assert request.id is not None
    decisions = _decisions(session, request)
    filled = {item.role for item in decisions}
    reasons: Sequence[str] = (
        stale_reasons(session, request)
        if request.status in ("pending", "approved")
        else ()
    )
    return RequestView(
        id=request.id,
        model_version_id=request.model_version_id,
        status=request.status,
        requested_by=request.requested_by,
        requested_at=request.requested_at,
        purpose=request.purpose,
        changes=request.changes,
        risk_summary=request.risk_summary,
        mitigation_plan=request.mitigation_plan,
        risk_level=request.risk_level,
        change_class=request.change_class,
        required_roles=tuple(request.required_roles),
        open_roles=tuple(r for r in request.required_roles if r not in filled),
        decisions=tuple(
            DecisionView(d.approver_id, d.role, d.decision, d.comment, d.decided_at)
            for d in decisions
        ),
        binding=_binding(request),
        stale_reasons=tuple(reasons),
        row_version=request.row_version,
        resubmission_of=request.resubmission_of,
    )
