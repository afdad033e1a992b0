"""The framework's compliance checklists and the deployment gate.

The pre-deployment checklist (nine items) is ticked by the system from the
records, each with who and when stood behind it; the post-deployment checklist
(six items) is ticked by named people once the rollout has begun. The deployment
gate says, in words, everything that blocks a version from being deployed: stale
or missing approvals and the unticked pre-deployment items.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, select

from governance.audit import unit_of_work
from governance.errors import ConflictError, InvalidInputError, WorkflowBlockedError
from governance.store import read_session
from governance.tables import Assessment, ModelVersion
from governance.workflow._state import (
    bump,
    current_cycle,
    latest_assessment,
    latest_security_assessment,
    load_version,
    signoffs,
)
from governance.workflow.approvals import (
    approved_request,
    pending_request,
    stale_reasons,
)
from governance.workflow.permissions import require_permission
from governance.workflow_tables import ChecklistTick, StageSignoff

logger = logging.getLogger(__name__)

SYSTEM = "system"
# Framework, "Compliance Checklist" / "Pre-Deployment Checklist".
PRE_DEPLOYMENT: Mapping[str, str] = {
    "performance_meets_thresholds": "Model performance meets thresholds",
    "bias_assessment_completed": "Bias assessment completed",
    "documentation_complete": "Documentation complete",
    "explainability_available": "Explainability available",
    "security_assessment_passed": "Security assessment passed",
    "compliance_validation_passed": "Compliance validation passed",
    "risk_assessment_completed": "Risk assessment completed",
    "approval_obtained": "Approval obtained",
    "audit_trail_established": "Audit trail established",
}
# Framework, "Post-Deployment Checklist"; each ticked by the role named in the
# permission table under ``post_deployment.<item>``.
POST_DEPLOYMENT: Mapping[str, str] = {
    "monitoring_active": "Monitoring active",
    "alerts_configured": "Alerts configured",
    "performance_baseline": "Performance baseline established",
    "stakeholders_notified": "Stakeholders notified",
    "documentation_updated": "Documentation updated",
    "runbook_created": "Runbook created",
}
ROLLOUT_STAGES = ("deployment", "production")


@dataclass(frozen=True)
class ChecklistItem:
    """One checklist item: done or not, by whom and when, and why."""

    key: str
    title: str
    is_done: bool
    ticked_by: str | None
    ticked_at: datetime | None
    detail: str


@dataclass(frozen=True)
class DeploymentGate:
    """Whether a version may be deployed, and what blocks it."""

    version_id: int
    blockers: tuple[str, ...]

    @property
    def is_open(self) -> bool:
        """True when nothing blocks the deployment."""
        return not self.blockers


def pre_deployment_items(
    session: Session, version: ModelVersion
) -> list[ChecklistItem]:
    """The pre-deployment checklist of a version, ticked from the records."""
    assert version.id is not None
    cycle = current_cycle(session, version.id)
    assessment = latest_assessment(session, version.id)
    done = signoffs(session, version.id, cycle)
    security = latest_security_assessment(session, version.id, cycle)
    approved = approved_request(session, version.id)
    checks = {
        "performance_meets_thresholds": _thresholds(assessment),
        "bias_assessment_completed": _bias(assessment),
        "documentation_complete": _signed(
            done, ("documentation", "documentation_review")
        ),
        "explainability_available": _explanations(assessment),
        "security_assessment_passed": (
            (
                security.passed,
                SYSTEM,
                security.assessed_at,
                f"score {security.risk_score:.2f}",
            )
            if security is not None
            else (False, None, None, "no security assessment in this cycle")
        ),
        "compliance_validation_passed": _signed(
            done, ("compliance_validation", "regulatory_check")
        ),
        "risk_assessment_completed": (
            (True, SYSTEM, assessment.created_at, f"risk level {assessment.risk_level}")
            if assessment is not None
            else (False, None, None, "no assessment")
        ),
        "approval_obtained": (
            (True, SYSTEM, approved.closed_at, f"request {approved.id} approved")
            if approved is not None
            else (False, None, None, "no approved request in this cycle")
        ),
        "audit_trail_established": _signed(done, ("audit_trail_verification",)),
    }
    return [
        ChecklistItem(key, PRE_DEPLOYMENT[key], bool(ok), who, when, detail)
        for key, (ok, who, when, detail) in checks.items()
    ]


Tick = tuple[bool, str | None, datetime | None, str]


def _thresholds(assessment: Assessment | None) -> Tick:
    if assessment is None:
        return False, None, None, "no assessment"
    standards = (assessment.evidence or {}).get("standards") or []
    failed = [item["name"] for item in standards if item.get("passed") is not True]
    if not standards:
        return False, None, None, "the assessment holds no standards"
    if failed:
        return False, None, None, f"standards not met: {', '.join(failed)}"
    return True, SYSTEM, assessment.created_at, f"all {len(standards)} standards met"


def _bias(assessment: Assessment | None) -> Tick:
    if assessment is None:
        return False, None, None, "no assessment"
    fairness = (assessment.evidence or {}).get("fairness") or {}
    features = [
        item.get("feature") or item.get("name")
        for item in fairness.get("features") or []
    ]
    if not features:
        return False, None, None, "no sensitive feature was assessed"
    return True, SYSTEM, assessment.created_at, f"assessed for {len(features)} features"


def _explanations(assessment: Assessment | None) -> Tick:
    if assessment is None:
        return False, None, None, "no assessment"
    standard = ((assessment.evidence or {}).get("explanations") or {}).get("standard")
    if not standard or standard.get("passed") is not True:
        return False, None, None, "no additive SHAP explanations in the evidence"
    return True, SYSTEM, assessment.created_at, str(standard.get("detail", ""))


def _signed(done: dict[str, StageSignoff], kinds: tuple[str, ...]) -> Tick:
    missing = [kind for kind in kinds if kind not in done]
    if missing:
        return (
            False,
            None,
            None,
            f"missing: {', '.join(k.replace('_', ' ') for k in missing)}",
        )
    last = max((done[kind] for kind in kinds), key=lambda row: row.signed_at)
    return True, last.signed_by, last.signed_at, "signed off"


def post_deployment_items(
    session: Session, version: ModelVersion
) -> list[ChecklistItem]:
    """The post-deployment checklist of a version, ticked by named people."""
    assert version.id is not None
    ticks = _ticks(session, version.id, current_cycle(session, version.id))
    return [
        ChecklistItem(
            key,
            title,
            key in ticks,
            ticks[key].ticked_by if key in ticks else None,
            ticks[key].ticked_at if key in ticks else None,
            ticks[key].note if key in ticks else "",
        )
        for key, title in POST_DEPLOYMENT.items()
    ]


def _ticks(session: Session, version_id: int, cycle: int) -> dict[str, ChecklistTick]:
    rows = session.exec(
        select(ChecklistTick).where(
            ChecklistTick.model_version_id == version_id,
            ChecklistTick.cycle == cycle,
            ChecklistTick.checklist == "post_deployment",
        )
    ).all()
    return {row.item: row for row in rows}


def pre_deployment_checklist(engine: Engine, version_id: int) -> list[ChecklistItem]:
    """The pre-deployment checklist of a version."""
    with read_session(engine) as session:
        return pre_deployment_items(session, load_version(session, version_id))


def post_deployment_checklist(engine: Engine, version_id: int) -> list[ChecklistItem]:
    """The post-deployment checklist of a version."""
    with read_session(engine) as session:
        return post_deployment_items(session, load_version(session, version_id))


def tick_post_deployment(
    engine: Engine, *, actor_id: str, version_id: int, item: str, note: str = ""
) -> int:
    """Tick one post-deployment item as the person responsible for it.

    Raises
    ------
    InvalidInputError
        When ``item`` is not one of `POST_DEPLOYMENT`.
    WorkflowBlockedError
        Before the rollout has begun.
    ConflictError
        When the item is already ticked.
    """
    if item not in POST_DEPLOYMENT:
        raise InvalidInputError(
            f"Unknown post-deployment item {item!r}; use one of {', '.join(POST_DEPLOYMENT)}."
        )
    with unit_of_work(engine) as work:
        require_permission(work.session, actor_id, f"post_deployment.{item}")
        version = load_version(work.session, version_id)
        if version.stage not in ROLLOUT_STAGES:
            raise WorkflowBlockedError(
                "The post-deployment checklist follows the rollout; "
                f"{version.model_name} version {version.version} is in {version.stage}."
            )
        cycle = current_cycle(work.session, version_id)
        if item in _ticks(work.session, version_id, cycle):
            raise ConflictError(f"{POST_DEPLOYMENT[item]} is already ticked.")
        row = ChecklistTick(
            model_version_id=version_id,
            cycle=cycle,
            checklist="post_deployment",
            item=item,
            ticked_by=actor_id,
            note=note.strip(),
        )
        work.session.add(row)
        bump(work, version)
        work.session.flush()
        work.record(
            actor_id=actor_id,
            action="checklist.ticked",
            entity_type="model_version",
            entity_id=str(version_id),
            payload={
                "checklist": "post_deployment",
                "item": item,
                "note": note.strip(),
            },
        )
        tick_id = row.id
    assert tick_id is not None
    return tick_id


def gate_blockers(session: Session, version: ModelVersion) -> list[str]:
    """Everything that blocks deploying ``version``, in words."""
    assert version.id is not None
    blockers: list[str] = []
    approved = approved_request(session, version.id)
    if approved is not None:
        blockers.extend(
            f"the approval (request {approved.id}) is stale: {reason}"
            for reason in stale_reasons(session, approved)
        )
    else:
        pending = pending_request(session, version.id)
        if pending is not None:
            blockers.append(
                _missing_approvals(session, pending.id, pending.required_roles)
            )
        else:
            blockers.append("no approval has been requested in this cycle")
    blockers.extend(
        f"pre-deployment checklist: {item.title.lower()} is not done ({item.detail})"
        for item in pre_deployment_items(session, version)
        if not item.is_done and item.key != "approval_obtained"
    )
    return blockers


def _missing_approvals(
    session: Session, request_id: int | None, roles: list[str]
) -> str:
    from governance.workflow_tables import ApprovalDecision

    filled = set(
        session.exec(
            select(ApprovalDecision.role).where(
                ApprovalDecision.request_id == request_id
            )
        ).all()
    )
    missing = [role.replace("_", " ") for role in roles if role not in filled]
    return f"approvals missing from: {', '.join(missing)} (request {request_id})"


def deployment_gate(engine: Engine, version_id: int) -> DeploymentGate:
    """What blocks deploying the version (stale or missing approvals, checklist).

    Returns
    -------
    DeploymentGate
        ``is_open`` when nothing blocks; otherwise ``blockers`` in words.
    """
    with read_session(engine) as session:
        version = load_version(session, version_id)
        return DeploymentGate(version_id, tuple(gate_blockers(session, version)))
