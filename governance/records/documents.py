"""The documents the framework requires per model version, drafted from the records.

The framework's "Required Documents" name, per model, a risk assessment report, a
compliance validation report and an approval record. Each is built here from what
the console recorded for the version and laid out in the parts of the matching
template (`governance.records.templates`):

- risk assessment report: the latest assessment's evidence (risk factors and
  their drivers, score, level, standards), the security officer's assessment and
  the mitigation plan submitted with the latest approval request;
- compliance validation report: the development and compliance-check sign-offs of
  every cycle, and the pre- and post-deployment checklists as they stand;
- approval record: the latest approval request with what it bound and each
  approver's decision, and every earlier request of the version.

Documents are kept like the periodic reports: HTML and PDF rendered from one
`Document`, written once, digests recorded and audited, ``model_version_id`` set.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from governance.access import ROLE_TITLES
from governance.errors import InvalidInputError, NotFoundError, WorkflowBlockedError
from governance.policy import Policy
from governance.records import templates as tpl
from governance.records.rendering import (
    Document,
    Facts,
    Paragraph,
    Section,
    Table,
    shown_hours,
    shown_score,
    shown_time,
)
from governance.records.stored import StoredReport, check_permission, keep_document
from governance.settings import Settings
from governance.signoff import display_names
from governance.store import read_session
from governance.tables import Assessment, ModelVersion, utc_now
from governance.workflow._state import (
    as_utc,
    current_cycle,
    latest_assessment,
    latest_security_assessment,
)
from governance.workflow.checklists import (
    ChecklistItem,
    post_deployment_items,
    pre_deployment_items,
)
from governance.workflow_tables import ApprovalDecision, ApprovalRequest, StageSignoff

logger = logging.getLogger(__name__)

DOCUMENT_PERMISSION = "report.document"
DOCUMENT_KINDS: Mapping[str, str] = {
    # Framework, "Documentation" / "Required Documents".
    "risk_assessment_report": "Risk assessment report",
    "compliance_validation_report": "Compliance validation report",
    "approval_record": "Approval record",
}


def find_version(session: Session, model: str, version: str) -> ModelVersion:
    """The version ``version`` of ``model``, or a NotFoundError naming both."""
    row = session.exec(
        select(ModelVersion).where(
            ModelVersion.model_name == model, ModelVersion.version == version
        )
    ).first()
    if row is None:
        raise NotFoundError(
            f"No version {version!r} of a governed model {model!r}; check the "
            "inventory for the names."
        )
    return row


def build_document(
    engine: Engine,
    policy: Policy,
    *,
    version_id: int,
    kind: str,
    now: datetime | None = None,
) -> Document:
    """Draft document ``kind`` for one model version from the records.

    Parameters
    ----------
    kind
        ``risk_assessment_report``, ``compliance_validation_report`` or
        ``approval_record``.
    now
        When it is drafted (now by default).

    Raises
    ------
    WorkflowBlockedError
        When the records hold nothing to report yet (no assessment for a risk
        assessment report, no request for an approval record).
    """
    if kind not in DOCUMENT_KINDS:
        raise InvalidInputError(
            f"Unknown document {kind!r}; use one of {', '.join(DOCUMENT_KINDS)}."
        )
    names = display_names(engine)
    with read_session(engine) as session:
        version = session.get(ModelVersion, version_id)
        if version is None:
            raise NotFoundError(f"No model version with id {version_id}.")
        builders = {
            "risk_assessment_report": _risk_sections,
            "compliance_validation_report": _compliance_sections,
            "approval_record": _approval_sections,
        }
        sections = builders[kind](session, policy, version, names)
    subtitle = (
        f"{version.model_name} version {version.version}, stage "
        f"{version.stage.replace('_', ' ')}; drafted from the records "
        f"{shown_time(now or utc_now())} under policy {policy.version}."
    )
    title = f"{DOCUMENT_KINDS[kind]}: {version.model_name} version {version.version}"
    return Document(title, subtitle, tuple(sections))


def _name(names: Mapping[str, str], user_id: str | None) -> str:
    if not user_id:
        return ""
    return names.get(user_id, user_id)


# Risk assessment report -----------------------------------------------------


def _risk_sections(
    session: Session, policy: Policy, version: ModelVersion, names: Mapping[str, str]
) -> list[Section]:
    assert version.id is not None
    assessment = latest_assessment(session, version.id)
    if assessment is None:
        raise WorkflowBlockedError(
            f"{version.model_name} version {version.version} has no assessment; "
            "assess it before drafting its risk assessment report."
        )
    template = tpl.risk_assessment_template(policy)
    evidence = assessment.evidence or {}
    risk = evidence.get("risk") or {}
    security = latest_security_assessment(session, version.id)
    request = _latest_request(session, version.id)
    sections = {
        tpl.EVIDENCE_PART: _evidence_blocks(version, assessment, names),
        tpl.FACTORS_PART: _factor_blocks(template, risk),
        tpl.LEVEL_PART: _level_blocks(assessment, risk),
        tpl.STANDARDS_PART: _standard_blocks(evidence),
        tpl.SECURITY_PART: _security_blocks(template, security, names),
        tpl.MITIGATION_PART: _mitigation_blocks(request),
    }
    return [Section(part.heading, sections[part.heading]) for part in template.parts]


def _evidence_blocks(
    version: ModelVersion, assessment: Assessment, names: Mapping[str, str]
) -> tuple[Any, ...]:
    artifacts = (assessment.evidence or {}).get("model_artifacts") or {}
    data = (assessment.evidence or {}).get("data") or {}
    facts = [
        ("Model and version", f"{version.model_name} version {version.version}"),
        ("Algorithm", version.algorithm or "not recorded"),
        ("Run id", version.run_id or "none"),
        (
            "Registered",
            f"{shown_time(version.registered_at)} by "
            f"{_name(names, version.registered_by)}",
        ),
        (
            "Assessment",
            f"{assessment.id}, {shown_time(assessment.created_at)}, policy "
            f"{assessment.policy_version}",
        ),
        ("Artifact digest (SHA-256)", str(artifacts.get("sha256") or "none")),
    ]
    facts += [
        (f"Data: {part}", f"SHA-256 {ref.get('sha256', '')}")
        for part, ref in data.items()
        if isinstance(ref, Mapping)
    ]
    return (Facts(tuple(facts)),)


def _factor_blocks(
    template: tpl.FrameworkTemplate, risk: Mapping[str, Any]
) -> tuple[Any, ...]:
    factors = risk.get("factors") or {}
    drivers = risk.get("drivers") or {}
    rows = tuple(
        (
            field.title,
            shown_score(_number(factors.get(field.key))),
            str(drivers.get(field.key) or "not recorded"),
        )
        for field in template.part(tpl.FACTORS_PART).fields
    )
    return (Table(("Factor", "Score", "What drove it"), rows),)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _level_blocks(assessment: Assessment, risk: Mapping[str, Any]) -> tuple[Any, ...]:
    approvers = risk.get("required_approvers") or []
    needs_plan = risk.get("mitigation_plan_required")
    return (
        Facts(
            (
                ("Risk score", shown_score(_number(risk.get("score")))),
                ("Risk level", str(risk.get("level") or assessment.risk_level)),
                (
                    "Required approvers",
                    ", ".join(ROLE_TITLES.get(r, r) for r in approvers) or "-",
                ),
                (
                    "Mitigation plan required",
                    "-" if needs_plan is None else ("yes" if needs_plan else "no"),
                ),
            )
        ),
        Paragraph(
            "The assessment leaves the security factor to the security officer; "
            "the approvers are set again from the security score when approval is "
            "requested (see the approval record)."
        ),
    )


def _standard_blocks(evidence: Mapping[str, Any]) -> tuple[Any, ...]:
    rows = tuple(
        (
            str(item.get("name", "")),
            _cell(item.get("value")),
            _cell(item.get("threshold")),
            "met" if item.get("passed") is True else "not met",
            str(item.get("detail") or ""),
        )
        for item in evidence.get("standards") or []
    )
    return (
        Table(
            ("Standard", "Value", "Threshold", "Result", "Detail"),
            rows,
            empty="The assessment holds no standards.",
        ),
    )


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def _security_blocks(
    template: tpl.FrameworkTemplate, security: Any, names: Mapping[str, str]
) -> tuple[Any, ...]:
    if security is None:
        return (Paragraph("No security assessment has been recorded."),)
    facts = Facts(
        (
            (
                "Assessed",
                f"{shown_time(security.assessed_at)} by "
                f"{_name(names, security.assessed_by)} (cycle {security.cycle})",
            ),
            ("Security risk score", shown_score(security.risk_score)),
            ("Result", "passed" if security.passed else "failed"),
            ("Note", security.note or "-"),
        )
    )
    answers = security.answers or {}
    questionnaire = Table(
        ("Question", "Answer"),
        tuple(
            (field.title, _yes_no(answers.get(field.key)))
            for field in template.part(tpl.SECURITY_PART).fields
        ),
    )
    checks = Table(
        ("Automated check", "Result", "Detail"),
        tuple(
            (
                str(check.get("name", "")).replace("_", " "),
                "passed" if check.get("passed") else "failed",
                str(check.get("detail", "")),
            )
            for check in (security.automated_checks or {}).get("checks") or []
        ),
        empty="No automated check was recorded.",
    )
    return (facts, questionnaire, checks)


def _yes_no(value: Any) -> str:
    if value is None:
        return "not answered"
    return "yes" if value else "no"


def _mitigation_blocks(request: ApprovalRequest | None) -> tuple[Any, ...]:
    if request is None:
        return (Paragraph("No approval has been requested, so no plan was submitted."),)
    plan = request.mitigation_plan or "No mitigation plan was submitted."
    return (
        Paragraph(f"From approval request {request.id} ({request.risk_level} risk):"),
        Paragraph(plan),
    )


def _latest_request(session: Session, version_id: int) -> ApprovalRequest | None:
    return session.exec(
        select(ApprovalRequest)
        .where(ApprovalRequest.model_version_id == version_id)
        .order_by(col(ApprovalRequest.id).desc())
        .limit(1)
    ).first()


# Compliance validation report ----------------------------------------------


def _compliance_sections(
    session: Session, policy: Policy, version: ModelVersion, names: Mapping[str, str]
) -> list[Section]:
    assert version.id is not None
    template = tpl.compliance_checklist_template(policy)
    rows = session.exec(
        select(StageSignoff)
        .where(StageSignoff.model_version_id == version.id)
        .order_by(col(StageSignoff.cycle), col(StageSignoff.signed_at))
    ).all()
    cycle = current_cycle(session, version.id)
    sections = {
        tpl.DEVELOPMENT_PART: _signoff_blocks(
            template, tpl.DEVELOPMENT_PART, rows, names, cycle
        ),
        tpl.COMPLIANCE_PART: _signoff_blocks(
            template, tpl.COMPLIANCE_PART, rows, names, cycle
        ),
        tpl.PRE_PART: _checklist_blocks(pre_deployment_items(session, version), names),
        tpl.POST_PART: _checklist_blocks(
            post_deployment_items(session, version), names
        ),
    }
    return [Section(part.heading, sections[part.heading]) for part in template.parts]


def _signoff_blocks(
    template: tpl.FrameworkTemplate,
    heading: str,
    rows: Any,
    names: Mapping[str, str],
    cycle: int,
) -> tuple[Any, ...]:
    fields = template.part(heading).fields
    wanted = {field.key: field.title for field in fields}
    signed = [row for row in rows if row.kind in wanted]
    table = Table(
        ("Cycle", "Sign-off", "By", "At", "Note", "Details"),
        tuple(
            (
                str(row.cycle),
                wanted[row.kind],
                _name(names, row.signed_by),
                shown_time(row.signed_at),
                row.note,
                _details(row.kind, row.details or {}),
            )
            for row in signed
        ),
        empty="Nothing has been signed in this part yet.",
    )
    done = {row.kind for row in rows if row.cycle == cycle}
    missing = [field.title for field in fields if field.key not in done]
    status = Paragraph(
        f"Missing in the current cycle ({cycle}): {', '.join(missing)}."
        if missing
        else f"Every sign-off of this part is recorded in the current cycle ({cycle})."
    )
    return (table, status)


def _details(kind: str, details: Mapping[str, Any]) -> str:
    if kind == "regulatory_check":
        return "Regulations: " + ", ".join(details.get("regulations") or [])
    if kind == "audit_trail_verification":
        return (
            f"{details.get('events_checked', '?')} events checked; head "
            f"{details.get('head_seq', '?')} {str(details.get('head_hash', ''))[:16]}"
        )
    if kind == "documentation":
        return f"{len(details)} sections"
    return ""


def _checklist_blocks(
    items: list[ChecklistItem], names: Mapping[str, str]
) -> tuple[Any, ...]:
    done = sum(item.is_done for item in items)
    return (
        Paragraph(f"{done} of {len(items)} items done."),
        Table(
            ("Item", "Done", "By", "At", "Detail"),
            tuple(
                (
                    item.title,
                    "yes" if item.is_done else "no",
                    _name(names, item.ticked_by),
                    shown_time(item.ticked_at),
                    item.detail,
                )
                for item in items
            ),
        ),
    )


# Approval record ------------------------------------------------------------


def _approval_sections(
    session: Session, policy: Policy, version: ModelVersion, names: Mapping[str, str]
) -> list[Section]:
    assert version.id is not None
    requests = session.exec(
        select(ApprovalRequest)
        .where(ApprovalRequest.model_version_id == version.id)
        .order_by(col(ApprovalRequest.id).desc())
    ).all()
    if not requests:
        raise WorkflowBlockedError(
            f"{version.model_name} version {version.version} has no approval "
            "request; its approval record starts when one is submitted."
        )
    template = tpl.approval_request_template(policy)
    latest = requests[0]
    sections = {
        tpl.REQUEST_PART: _request_blocks(template, latest, names),
        tpl.BINDING_PART: _binding_blocks(version, latest),
        tpl.DECISIONS_PART: _decision_blocks(session, latest, requests, names),
    }
    return [Section(part.heading, sections[part.heading]) for part in template.parts]


def _request_blocks(
    template: tpl.FrameworkTemplate,
    request: ApprovalRequest,
    names: Mapping[str, str],
) -> tuple[Any, ...]:
    header = Facts(
        (
            ("Request", str(request.id)),
            (
                "Requested",
                f"{shown_time(request.requested_at)} by "
                f"{_name(names, request.requested_by)}",
            ),
            ("Resubmission of", str(request.resubmission_of or "-")),
        )
    )
    texts = Facts(
        tuple(
            (field.title, getattr(request, field.key) or "-")
            for field in template.part(tpl.REQUEST_PART).fields
        )
    )
    return (header, texts)


def _binding_blocks(version: ModelVersion, request: ApprovalRequest) -> tuple[Any, ...]:
    return (
        Facts(
            (
                (
                    "Model and version",
                    f"{version.model_name} version {version.version}",
                ),
                ("Run id", request.run_id or "none"),
                ("Artifact digest", request.artifact_digest or "none"),
                ("Assessment", str(request.assessment_id)),
                ("Security assessment", str(request.security_assessment_id or "none")),
                ("Change class", request.change_class),
                ("Risk level", request.risk_level),
                (
                    "Required approvers",
                    ", ".join(ROLE_TITLES.get(r, r) for r in request.required_roles),
                ),
                ("Policy version", request.policy_version),
            )
        ),
    )


def _decision_blocks(
    session: Session,
    latest: ApprovalRequest,
    requests: Any,
    names: Mapping[str, str],
) -> tuple[Any, ...]:
    decisions = session.exec(
        select(ApprovalDecision)
        .where(ApprovalDecision.request_id == latest.id)
        .order_by(col(ApprovalDecision.decided_at), col(ApprovalDecision.id))
    ).all()
    outcome = Facts(
        (
            ("Status", latest.status),
            (
                "Closed",
                f"{shown_time(latest.closed_at)} by {_name(names, latest.closed_by)}"
                if latest.closed_at
                else "-",
            ),
            ("Reason", latest.close_reason or "-"),
            ("Cycle time", shown_hours(_hours(latest))),
            (
                "Waiting for",
                ", ".join(
                    ROLE_TITLES.get(role, role)
                    for role in latest.required_roles
                    if role not in {row.role for row in decisions}
                )
                if latest.status == "pending"
                else "-",
            ),
        )
    )
    table = Table(
        ("Approver", "Role", "Decision", "Comment", "At"),
        tuple(
            (
                _name(names, row.approver_id),
                ROLE_TITLES.get(row.role, row.role),
                row.decision,
                row.comment,
                shown_time(row.decided_at),
            )
            for row in decisions
        ),
        empty="No approver has decided yet.",
    )
    history = Table(
        ("Request", "Status", "Requested", "Closed", "Cycle time", "Reason"),
        tuple(
            (
                str(row.id),
                row.status,
                shown_time(row.requested_at),
                shown_time(row.closed_at),
                shown_hours(_hours(row)),
                row.close_reason or "",
            )
            for row in requests
        ),
    )
    return (outcome, table, Paragraph("Every request of this version:"), history)


def _hours(request: ApprovalRequest) -> float | None:
    if request.closed_at is None:
        return None
    delta = as_utc(request.closed_at) - as_utc(request.requested_at)
    return delta.total_seconds() / 3600


# Keeping documents ----------------------------------------------------------


def generate_document(
    settings: Settings,
    engine: Engine,
    policy: Policy,
    *,
    actor_id: str,
    model: str,
    version: str,
    kind: str,
    now: datetime | None = None,
) -> StoredReport:
    """Draft, keep and audit document ``kind`` of ``model`` ``version``.

    Returns
    -------
    StoredReport
        The kept document; drafting it again keeps a new one.

    Raises
    ------
    PermissionDeniedError
        Unless the actor is a compliance officer.
    NotFoundError
        When the model or version does not exist.
    WorkflowBlockedError
        When the records hold nothing for the document yet.
    """
    check_permission(engine, actor_id, DOCUMENT_PERMISSION)
    with read_session(engine) as session:
        row = find_version(session, model, version)
    assert row.id is not None
    doc = build_document(engine, policy, version_id=row.id, kind=kind, now=now)
    return keep_document(
        settings,
        engine,
        actor_id=actor_id,
        permission=DOCUMENT_PERMISSION,
        kind=kind,
        doc=doc,
        policy_version=policy.version,
        summary=doc.subtitle,
        label=f"{model}-v{version}",
        model_version_id=row.id,
        payload={"model": model, "version": version},
    )
