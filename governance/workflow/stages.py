"""The five stages of the framework's "Model Approval Workflow", per version.

development -> risk_assessment -> compliance_check -> approval -> deployment ->
production, with ``withdrawn`` and ``retired`` as exits; a rejection returns a
version to development. Each stage has conditions to leave it, recorded as named
sign-offs (who, when) in the version's current cycle:

- development: the data scientist's documentation, the ML engineer's internal
  review;
- risk_assessment: an assessment (the evidence) and the security officer's
  security assessment;
- compliance_check: the compliance officer's validation, documentation review,
  audit-trail verification and regulatory check;
- approval: an approved request (``governance.workflow.approvals``);
- deployment: the staged rollout (``governance.workflow.rollout``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from governance.audit import unit_of_work, verify_chain
from governance.errors import InvalidInputError, WorkflowBlockedError
from governance.policy import Policy
from governance.store import read_session
from governance.tables import ModelVersion
from governance.workflow._state import (
    bump,
    check_row_version,
    current_cycle,
    latest_assessment,
    latest_security_assessment,
    load_version,
    require_text,
    set_stage,
    signoffs,
)
from governance.workflow.permissions import require_permission
from governance.workflow_tables import StageSignoff

logger = logging.getLogger(__name__)

# Framework, "Documentation Requirements".
DOCUMENTATION_SECTIONS: Mapping[str, str] = {
    "description": "Model description and purpose",
    "feature_engineering": "Feature engineering documentation",
    "training_data": "Training data description",
    "evaluation_methodology": "Evaluation methodology",
    "performance_metrics": "Performance metrics",
    "known_limitations": "Known limitations",
    "bias_assessment": "Bias assessment results",
}
SIGNOFFS: Mapping[str, tuple[str, str, str]] = {
    # kind: (stage it belongs to, permission, what it is in words)
    "documentation": (
        "development",
        "development.complete_documentation",
        "the data scientist's documentation",
    ),
    "internal_review": (
        "development",
        "development.internal_review",
        "the ML engineer's internal review",
    ),
    "compliance_validation": (
        "compliance_check",
        "compliance.validation",
        "the compliance validation",
    ),
    "documentation_review": (
        "compliance_check",
        "compliance.documentation_review",
        "the documentation review",
    ),
    "audit_trail_verification": (
        "compliance_check",
        "compliance.audit_trail_verification",
        "the audit-trail verification",
    ),
    "regulatory_check": (
        "compliance_check",
        "compliance.regulatory_check",
        "the regulatory compliance check",
    ),
}
ADVANCE_PERMISSION = {
    "development": "stage.submit_for_risk_assessment",
    "risk_assessment": "stage.submit_for_compliance_check",
    "compliance_check": "stage.submit_for_approval",
}


def complete_documentation(
    engine: Engine, *, actor_id: str, version_id: int, sections: Mapping[str, str]
) -> int:
    """Mark the version's documentation done, with every required section.

    Parameters
    ----------
    sections
        Section key (one of `DOCUMENTATION_SECTIONS`) to its text, or to where
        the text lives.

    Returns
    -------
    int
        The sign-off's id.
    """
    missing = [
        key for key in DOCUMENTATION_SECTIONS if not sections.get(key, "").strip()
    ]
    if missing:
        titles = ", ".join(DOCUMENTATION_SECTIONS[key] for key in missing)
        raise InvalidInputError(f"The documentation lacks: {titles}. Write them first.")
    details = {key: sections[key].strip() for key in DOCUMENTATION_SECTIONS}
    return _sign(
        engine, actor_id, version_id, "documentation", note="", details=details
    )


def record_internal_review(
    engine: Engine, *, actor_id: str, version_id: int, comment: str
) -> int:
    """Record the ML engineer's internal review; the reviewer is not the author."""
    text = require_text(comment, field="review comment")
    return _sign(engine, actor_id, version_id, "internal_review", note=text)


def record_compliance_validation(
    engine: Engine, *, actor_id: str, version_id: int, comment: str
) -> int:
    """Record the compliance officer's validation of the version."""
    text = require_text(comment, field="validation comment")
    return _sign(engine, actor_id, version_id, "compliance_validation", note=text)


def record_documentation_review(
    engine: Engine, *, actor_id: str, version_id: int, comment: str
) -> int:
    """Record the compliance officer's review of the version's documentation."""
    text = require_text(comment, field="documentation review comment")
    return _sign(engine, actor_id, version_id, "documentation_review", note=text)


def record_regulatory_check(
    engine: Engine,
    *,
    actor_id: str,
    version_id: int,
    regulations: Sequence[str],
    comment: str,
) -> int:
    """Record the regulatory compliance check against the named regulations."""
    named = [item.strip() for item in regulations if item.strip()]
    if not named:
        raise InvalidInputError("Name the regulations checked (e.g. GDPR).")
    text = require_text(comment, field="regulatory check comment")
    return _sign(
        engine,
        actor_id,
        version_id,
        "regulatory_check",
        note=text,
        details={"regulations": named},
    )


def verify_audit_trail(engine: Engine, *, actor_id: str, version_id: int) -> int:
    """Verify the whole audit chain now and record the result as a sign-off.

    Raises
    ------
    WorkflowBlockedError
        When the chain is broken; the message names the first bad event.
    """
    verification = verify_chain(engine)
    if not verification.is_intact:
        raise WorkflowBlockedError(
            f"{verification.describe()}. The audit trail cannot be signed off; "
            "report it to the security officer."
        )
    details = {
        "events_checked": verification.events_checked,
        "head_seq": verification.head_seq,
        "head_hash": verification.head_hash,
    }
    return _sign(
        engine,
        actor_id,
        version_id,
        "audit_trail_verification",
        note=verification.describe(),
        details=details,
    )


def _sign(
    engine: Engine,
    actor_id: str,
    version_id: int,
    kind: str,
    *,
    note: str,
    details: dict[str, Any] | None = None,
) -> int:
    stage, permission, words = SIGNOFFS[kind]
    with unit_of_work(engine) as work:
        require_permission(work.session, actor_id, permission)
        version = load_version(work.session, version_id)
        if version.stage != stage:
            raise WorkflowBlockedError(
                f"{version.model_name} version {version.version} is in {version.stage}; "
                f"{words} belongs to the {stage.replace('_', ' ')} stage."
            )
        cycle = current_cycle(work.session, version_id)
        done = signoffs(work.session, version_id, cycle)
        _check_signoff(version, kind, actor_id, done, words)
        row = StageSignoff(
            model_version_id=version_id,
            cycle=cycle,
            kind=kind,
            signed_by=actor_id,
            note=note,
            details=details or {},
        )
        work.session.add(row)
        bump(work, version)
        work.session.flush()
        work.record(
            actor_id=actor_id,
            action=f"signoff.{kind}",
            entity_type="model_version",
            entity_id=str(version_id),
            payload={"signoff_id": row.id, "cycle": cycle, "note": note},
        )
        signoff_id = row.id
    assert signoff_id is not None
    return signoff_id


def _check_signoff(
    version: ModelVersion,
    kind: str,
    actor_id: str,
    done: dict[str, StageSignoff],
    words: str,
) -> None:
    from governance.errors import ConflictError

    if kind in done:
        raise ConflictError(
            f"{words.capitalize()} is already recorded for this cycle "
            f"(by {done[kind].signed_by})."
        )
    if kind == "internal_review":
        if "documentation" not in done:
            raise WorkflowBlockedError(
                "The documentation is not marked done; the internal review reviews it."
            )
        authors = {version.registered_by, done["documentation"].signed_by}
        if actor_id in authors:
            raise WorkflowBlockedError(
                "The internal review must come from an ML engineer other than the "
                "person who registered or documented the version."
            )
    if kind == "documentation_review" and "documentation" not in done:
        raise WorkflowBlockedError("There is no completed documentation to review.")


def stage_blockers(session: Session, version: ModelVersion) -> list[str]:
    """What must still happen before the version may leave its current stage."""
    assert version.id is not None
    cycle = current_cycle(session, version.id)
    done = signoffs(session, version.id, cycle)
    needed = [
        words
        for kind, (stage, _, words) in SIGNOFFS.items()
        if stage == version.stage and kind not in done
    ]
    blockers = [f"{words} is missing" for words in needed]
    if version.stage == "risk_assessment":
        if latest_assessment(session, version.id) is None:
            blockers.append("no assessment (evidence) exists for this version")
        if latest_security_assessment(session, version.id, cycle) is None:
            blockers.append("the security officer's security assessment is missing")
    return blockers


def missing_for_next_stage(engine: Engine, version_id: int) -> list[str]:
    """What blocks the version from leaving its current stage, in words."""
    with read_session(engine) as session:
        version = load_version(session, version_id)
        return stage_blockers(session, version)


def advance_stage(
    engine: Engine,
    *,
    actor_id: str,
    policy: Policy,
    version_id: int,
    expected_row_version: int | None = None,
) -> str:
    """Move the version to the next stage once its current stage is complete.

    Only development, risk assessment and compliance check are left this way;
    the approval stage is left by an approved request and deployment by the
    rollout.

    Returns
    -------
    str
        The stage the version is now in.

    Raises
    ------
    WorkflowBlockedError
        When something is missing; the message lists it.
    ConflictError
        When the version changed since ``expected_row_version`` was read.
    """
    with unit_of_work(engine) as work:
        version = load_version(work.session, version_id)
        permission = ADVANCE_PERMISSION.get(version.stage)
        if permission is None:
            raise WorkflowBlockedError(
                f"{version.model_name} version {version.version} is in {version.stage}, "
                "which is not left by advancing: approvals and the rollout move it."
            )
        require_permission(work.session, actor_id, permission)
        check_row_version(version, expected_row_version, what="The model version")
        blockers = stage_blockers(work.session, version)
        if blockers:
            raise WorkflowBlockedError(
                f"{version.model_name} version {version.version} cannot leave "
                f"{version.stage}: {'; '.join(blockers)}."
            )
        target = _next_stage(policy, version.stage)
        set_stage(work, actor_id=actor_id, version=version, stage=target)
    return target


def _next_stage(policy: Policy, stage: str) -> str:
    stages = list(policy.workflow.stages)
    if stage not in stages or stages.index(stage) + 1 >= len(stages):
        raise WorkflowBlockedError(
            f"The policy's workflow stages {stages} have no stage after {stage}."
        )
    return stages[stages.index(stage) + 1]


def withdraw_version(
    engine: Engine,
    *,
    actor_id: str,
    version_id: int,
    reason: str,
    expected_row_version: int | None = None,
) -> None:
    """Take a version out of the workflow before it reaches production."""
    text = require_text(reason, field="reason for withdrawing")
    with unit_of_work(engine) as work:
        require_permission(work.session, actor_id, "version.withdraw")
        version = load_version(work.session, version_id)
        check_row_version(version, expected_row_version, what="The model version")
        if version.stage in ("production", "withdrawn", "retired"):
            raise WorkflowBlockedError(
                f"{version.model_name} version {version.version} is {version.stage}; "
                "only a version on its way to production can be withdrawn."
            )
        _close_pending_requests(work, actor_id, version_id, "withdrawn", text)
        set_stage(
            work, actor_id=actor_id, version=version, stage="withdrawn", reason=text
        )


def retire_version(
    engine: Engine,
    *,
    actor_id: str,
    version_id: int,
    reason: str,
    expected_row_version: int | None = None,
) -> None:
    """Retire a version (typically the one in production) for good."""
    text = require_text(reason, field="reason for retiring")
    with unit_of_work(engine) as work:
        require_permission(work.session, actor_id, "version.retire")
        version = load_version(work.session, version_id)
        check_row_version(version, expected_row_version, what="The model version")
        if version.stage in ("withdrawn", "retired"):
            raise WorkflowBlockedError(
                f"{version.model_name} version {version.version} is already {version.stage}."
            )
        _close_pending_requests(work, actor_id, version_id, "withdrawn", text)
        set_stage(
            work, actor_id=actor_id, version=version, stage="retired", reason=text
        )


def _close_pending_requests(
    work: Any, actor_id: str, version_id: int, status: str, reason: str
) -> None:
    from governance.workflow.approvals import close_pending_requests

    close_pending_requests(work, actor_id, version_id, status, reason)
