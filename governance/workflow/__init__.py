"""The sign-off workflow: stages, approvals, checklists, change classes, rollout.

Every mutating function takes the acting person's id, checks the permission table
(`PERMISSIONS`) against the roles stored now, changes state and records the audit
event in one write transaction. Pages call these functions; they add nothing.
"""

from governance.errors import WorkflowBlockedError
from governance.workflow.approvals import (
    APPROVAL_TEMPLATE,
    RequestView,
    approval_risk_level,
    approve_request,
    get_request,
    reject_request,
    request_approval,
    requests_of_version,
    required_approvers,
    resubmit_request,
    withdraw_request,
)
from governance.workflow.changes import (
    ChangeClassification,
    Difference,
    classify_change,
    describe_change,
    record_change_class,
)
from governance.workflow.checklists import (
    POST_DEPLOYMENT,
    PRE_DEPLOYMENT,
    ChecklistItem,
    DeploymentGate,
    deployment_gate,
    post_deployment_checklist,
    pre_deployment_checklist,
    tick_post_deployment,
)
from governance.workflow.inbox import InboxItem, inbox
from governance.workflow.permissions import (
    PERMISSIONS,
    allowed_roles,
    require_permission,
)
from governance.workflow.rollout import (
    MlflowRegistryWriter,
    RegistryWriter,
    RolloutTarget,
    advance_rollout,
    rollback,
    rollout_plan,
    rollout_status,
)
from governance.workflow.security import (
    SECURITY_QUESTIONS,
    ArtifactScan,
    record_security_assessment,
    scan_model_artifacts,
)
from governance.workflow.stages import (
    DOCUMENTATION_SECTIONS,
    advance_stage,
    complete_documentation,
    missing_for_next_stage,
    record_compliance_validation,
    record_documentation_review,
    record_internal_review,
    record_regulatory_check,
    retire_version,
    verify_audit_trail,
    withdraw_version,
)

__all__ = [
    "APPROVAL_TEMPLATE",
    "DOCUMENTATION_SECTIONS",
    "PERMISSIONS",
    "POST_DEPLOYMENT",
    "PRE_DEPLOYMENT",
    "SECURITY_QUESTIONS",
    "ArtifactScan",
    "ChangeClassification",
    "ChecklistItem",
    "DeploymentGate",
    "Difference",
    "InboxItem",
    "MlflowRegistryWriter",
    "RegistryWriter",
    "RequestView",
    "RolloutTarget",
    "WorkflowBlockedError",
    "advance_rollout",
    "advance_stage",
    "allowed_roles",
    "approval_risk_level",
    "approve_request",
    "classify_change",
    "complete_documentation",
    "deployment_gate",
    "describe_change",
    "get_request",
    "inbox",
    "missing_for_next_stage",
    "post_deployment_checklist",
    "pre_deployment_checklist",
    "record_change_class",
    "record_compliance_validation",
    "record_documentation_review",
    "record_internal_review",
    "record_regulatory_check",
    "record_security_assessment",
    "reject_request",
    "request_approval",
    "requests_of_version",
    "require_permission",
    "required_approvers",
    "resubmit_request",
    "retire_version",
    "rollback",
    "rollout_plan",
    "rollout_status",
    "scan_model_artifacts",
    "tick_post_deployment",
    "verify_audit_trail",
    "withdraw_request",
    "withdraw_version",
]
