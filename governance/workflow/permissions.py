"""Who may do what in the workflow: the permission table.

The table is derived from the framework's "Roles and Responsibilities" and its
"Model Approval Workflow"; each entry names the responsibility it carries out.
Every mutating workflow function calls ``require_permission`` first, inside its
write transaction, with the roles read from the database at that moment: a role
granted or revoked takes effect on the next action, and nothing a caller claims
(a page's session state) counts.

There is no bypass. The administrator manages people and roles and holds no
workflow permission; the system account holds no role at all.
"""

from __future__ import annotations

import logging
from types import MappingProxyType

from sqlmodel import Session

from governance.access import ROLE_TITLES, roles_of
from governance.errors import (
    PermissionDeniedError,
)
from governance.tables import User

logger = logging.getLogger(__name__)

PERMISSIONS: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        # Stage 1, Development. Data scientist: "Documentation"; ML engineer:
        # "Internal review by ML Engineer".
        "development.complete_documentation": ("data_scientist",),
        "development.internal_review": ("ml_engineer",),
        "stage.submit_for_risk_assessment": ("data_scientist",),
        # Stage 2, Risk assessment. Security officer: "Security assessment",
        # "Vulnerability assessment", "Access control validation".
        "risk.security_assessment": ("security_officer",),
        # Compliance officer: "Risk assessment review" accepts the stage's result.
        "stage.submit_for_compliance_check": ("compliance_officer",),
        # Stage 3, Compliance check. Compliance officer: "Compliance validation",
        # "Audit trail verification", "Regulatory compliance".
        "compliance.validation": ("compliance_officer",),
        "compliance.documentation_review": ("compliance_officer",),
        "compliance.audit_trail_verification": ("compliance_officer",),
        "compliance.regulatory_check": ("compliance_officer",),
        "stage.submit_for_approval": ("compliance_officer",),
        # Stage 4, Approval. Data scientist: "Request model deployment". Approvers:
        # model owner, compliance officer, security officer by risk level, and the
        # ML engineer for minor changes ("Model Change Management").
        "approval.request": ("data_scientist",),
        "approval.withdraw": ("data_scientist",),
        "approval.resubmit": ("data_scientist",),
        "approval.approve": (
            "model_owner",
            "compliance_officer",
            "security_officer",
            "ml_engineer",
        ),
        "approval.reject": (
            "model_owner",
            "compliance_officer",
            "security_officer",
            "ml_engineer",
        ),
        # "Model Change Management": the change class is stated by who builds or
        # ships the version.
        "change.classify": ("data_scientist", "ml_engineer"),
        # Stage 5, Deployment. ML engineer: "Model deployment and infrastructure".
        "rollout.step": ("ml_engineer",),
        "rollout.rollback": ("ml_engineer",),
        # Post-deployment checklist, each item by the role responsible for it.
        "post_deployment.monitoring_active": ("ml_engineer",),
        "post_deployment.alerts_configured": ("ml_engineer",),
        "post_deployment.performance_baseline": ("data_scientist",),
        "post_deployment.stakeholders_notified": ("model_owner",),
        "post_deployment.documentation_updated": ("data_scientist",),
        "post_deployment.runbook_created": ("ml_engineer",),
        # Taking a version out of the workflow. Data scientist: withdraws their
        # work; model owner: "Overall accountability" retires a model version.
        "version.withdraw": ("data_scientist", "model_owner"),
        "version.retire": ("model_owner",),
    }
)


def allowed_roles(action: str) -> tuple[str, ...]:
    """The roles that may take ``action``.

    Raises
    ------
    KeyError
        When ``action`` is not in the permission table (a defect, not user input).
    """
    return PERMISSIONS[action]


def require_permission(session: Session, actor_id: str, action: str) -> set[str]:
    """Raise unless ``actor_id`` is active and holds a role allowed to ``action``.

    Parameters
    ----------
    session
        The write transaction the action runs in; roles are read through it.
    actor_id
        The stable id of the person acting.
    action
        A key of `PERMISSIONS`.

    Returns
    -------
    set of str
        The actor's roles that allow the action.

    Raises
    ------
    PermissionDeniedError
        When the actor is unknown, deactivated, or holds none of the roles.
    """
    wanted = allowed_roles(action)
    user = session.get(User, actor_id)
    if user is None or not user.is_active:
        raise PermissionDeniedError(
            f"User {actor_id} is unknown or deactivated; sign in with an active account."
        )
    granted = roles_of(session, actor_id) & set(wanted)
    if not granted:
        titles = " or ".join(ROLE_TITLES[role] for role in wanted)
        raise PermissionDeniedError(
            f"{user.display_name or user.username} cannot {describe_action(action)}: "
            f"it needs the role {titles}. Ask an administrator to grant it."
        )
    logger.debug("%s may %s as %s", actor_id, action, sorted(granted))
    return granted


def describe_action(action: str) -> str:
    """An action key as words, e.g. ``"approval.request"`` -> "approval request"."""
    return action.replace(".", " ").replace("_", " ")
