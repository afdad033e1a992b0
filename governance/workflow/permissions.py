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
from governance.audit import note_attempt
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
        # Shadow and canary evidence from prediction logs. ML engineer: "Monitoring
        # and maintenance", "CI/CD pipeline management"; data scientist:
        # "Performance evaluation".
        "serving.evidence": ("ml_engineer", "data_scientist"),
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
        # Records ("Document Retention"). Model owner: "Overall accountability"
        # retires a whole model, which archives its records. Compliance officer:
        # "Regulatory compliance" keeps records for their retention period, places
        # and releases legal holds, and purges what is past retention.
        "model.retire": ("model_owner",),
        "retention.hold": ("compliance_officer",),
        "retention.release": ("compliance_officer",),
        "retention.purge": ("compliance_officer",),
        # Incident response. Anyone holding a role may report an incident: the
        # framework's "Detect" step is everyone's. Working each playbook is the
        # handling role the policy names per kind (policy.incidents.playbooks;
        # security incidents: the security officer's "Security incident response").
        "incident.report": (
            "model_owner",
            "data_scientist",
            "ml_engineer",
            "compliance_officer",
            "security_officer",
            "admin",
        ),
        # Monitoring. ML engineer: "Monitoring and maintenance" sets where a model's
        # prediction log is read from and runs monitoring on demand (a scheduler
        # runs it as the system account).
        "monitoring.configure_log": ("ml_engineer",),
        "monitoring.run": ("ml_engineer",),
        # Retraining requests re-enter the workflow. Data scientist: "Model
        # development and training" links the retrained version; model owner:
        # "Overall accountability for model performance" may decline a request.
        "retraining.link_version": ("data_scientist",),
        "retraining.decline": ("model_owner",),
        # Records. Compliance officer: "Regulatory compliance" and the framework's
        # "Compliance Reporting" (monthly reports, quarterly risk assessments), and
        # "Compliance validation" / "Risk assessment review" for the documents
        # each version needs (risk assessment report, compliance validation report,
        # approval record).
        "report.generate": ("compliance_officer",),
        "report.document": ("compliance_officer",),
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
    note_attempt(session, actor_id=actor_id, action=action)
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
