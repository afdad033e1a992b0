"""The framework's templates: model approval request, risk assessment, checklist.

The framework's appendix names three templates. Each is built here from the same
definitions the console's forms and records use, so a template cannot drift from
what the console asks for:

- the approval request's fields are `governance.workflow.APPROVAL_TEMPLATE`, the
  fields of the Request approval form and the arguments of ``request_approval``;
- the risk assessment's factors are `governance.assessment.risk.FACTOR_NAMES`, its
  bands, weights and approvers the policy's, its questionnaire
  `governance.workflow.SECURITY_QUESTIONS` (the security officer's form);
- the compliance checklist's items are `governance.workflow.PRE_DEPLOYMENT` and
  `POST_DEPLOYMENT` and the compliance stage's sign-offs.

What this module adds is the guidance: what to write in each field, or how the
console ticks each item. The per-version documents (`governance.records.documents`)
are laid out in the parts of these templates, in the same order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from governance.access import ROLE_TITLES
from governance.assessment.risk import FACTOR_NAMES
from governance.errors import NotFoundError
from governance.policy import Policy
from governance.records.rendering import (
    Bullets,
    Document,
    Paragraph,
    Section,
    Table,
    render_markdown,
    render_pdf,
)
from governance.workflow import (
    APPROVAL_TEMPLATE,
    POST_DEPLOYMENT,
    PRE_DEPLOYMENT,
    SECURITY_QUESTIONS,
    allowed_roles,
)
from governance.workflow.stages import SIGNOFFS


@dataclass(frozen=True)
class TemplateField:
    """One field of a template: what it is called, and what goes in it.

    ``label`` is the text the console's form shows for the field, where a form
    has it; ``title`` is the short name documents print.
    """

    key: str
    title: str
    guidance: str
    label: str = ""
    required: str = "yes"


@dataclass(frozen=True)
class TemplatePart:
    """A headed part of a template."""

    heading: str
    intro: str
    fields: tuple[TemplateField, ...]
    is_checklist: bool = False


@dataclass(frozen=True)
class FrameworkTemplate:
    """One of the framework's templates."""

    key: str
    title: str
    purpose: str
    parts: tuple[TemplatePart, ...]

    def part(self, heading: str) -> TemplatePart:
        """The part headed ``heading``."""
        return next(part for part in self.parts if part.heading == heading)


APPROVAL_REQUEST = "model_approval_request"
RISK_ASSESSMENT = "risk_assessment"
COMPLIANCE_CHECKLIST = "compliance_checklist"

# What the data scientist writes in each field of the approval request form.
APPROVAL_GUIDANCE: Mapping[str, tuple[str, str]] = {
    "purpose": (
        "Purpose",
        "The business decision the model supports, who relies on its scores, and "
        "why this version should replace what runs today. Name any use it must "
        "not be put to.",
    ),
    "changes": (
        "Changes",
        "What differs from the version in production: data, features, algorithm, "
        "parameters, threshold. For a first version, say so and describe the "
        "process it replaces.",
    ),
    "risk_summary": (
        "Risk summary",
        "The risk level the assessment gave, the factors that drove it and any "
        "standard that is not met, in your words; open findings of the security "
        "assessment.",
    ),
    "mitigation_plan": (
        "Risk mitigation plan",
        "For each driver of the risk: what reduces it, who owns the action and by "
        "when, what is monitored in production, and the condition for rolling "
        "back.",
    ),
}

# How each risk factor is judged (framework, "Risk Factors"), in the console's words.
FACTOR_GUIDANCE: Mapping[str, tuple[str, str]] = {
    "data_quality": (
        "Data quality risk",
        "Quality score, training rows and the age of the training data against the "
        "data standards; PII among the model's inputs.",
    ),
    "performance": (
        "Model performance risk",
        "AUC, precision and recall against their minimums; calibration (Brier "
        "score) against its ceiling.",
    ),
    "bias": (
        "Bias risk",
        "Demographic parity difference (the standard) and equalized odds "
        "difference (an indicator) across each sensitive feature.",
    ),
    "stability": (
        "Stability risk",
        "Spread of performance across time slices, drift (PSI) between training "
        "and current data, degradation since the reference.",
    ),
    "security": (
        "Security risk",
        "The security officer's assessment: the artifact scan, PII exposure, who "
        "can change the model, and the questionnaire below.",
    ),
}

# How the console ticks each pre-deployment item from the records.
PRE_DEPLOYMENT_GUIDANCE: Mapping[str, str] = {
    "performance_meets_thresholds": "Every standard of the latest assessment is met.",
    "bias_assessment_completed": (
        "The latest assessment measured disparities for every sensitive feature."
    ),
    "documentation_complete": (
        "The data scientist's documentation and the compliance officer's "
        "documentation review are signed."
    ),
    "explainability_available": "The assessment stored additive SHAP explanations.",
    "security_assessment_passed": (
        "The security officer's assessment in this cycle passed."
    ),
    "compliance_validation_passed": (
        "The compliance validation and the regulatory check are signed."
    ),
    "risk_assessment_completed": "An assessment with a risk level exists.",
    "approval_obtained": (
        "An approval request of this cycle holds every required approval."
    ),
    "audit_trail_established": (
        "The compliance officer verified the audit chain and signed it."
    ),
}

# Why each post-deployment item matters, as the person ticking it reads it.
POST_DEPLOYMENT_GUIDANCE: Mapping[str, str] = {
    "monitoring_active": "Production windows are scored on the review schedule.",
    "alerts_configured": "Alerts reach the people who act on the triggers.",
    "performance_baseline": (
        "The first production windows are recorded as the reference."
    ),
    "stakeholders_notified": "The business users know the version is live.",
    "documentation_updated": "The model card describes the version in production.",
    "runbook_created": "How to roll back and whom to call is written down.",
}

SIGNOFF_TITLES: Mapping[str, str] = {
    "documentation": "Documentation",
    "internal_review": "Internal review",
    "compliance_validation": "Compliance validation",
    "documentation_review": "Documentation review",
    "audit_trail_verification": "Audit trail verification",
    "regulatory_check": "Regulatory compliance check",
}

# Part headings, shared with the per-version documents that follow the templates.
REQUEST_PART = "The request"
BINDING_PART = "What the request binds"
DECISIONS_PART = "Decisions"
EVIDENCE_PART = "Version and evidence"
FACTORS_PART = "Risk factors"
LEVEL_PART = "Risk score, level and approvers"
STANDARDS_PART = "Standards"
SECURITY_PART = "Security assessment"
MITIGATION_PART = "Risk mitigation plan"
DEVELOPMENT_PART = "Development sign-offs"
COMPLIANCE_PART = "Compliance check sign-offs"
PRE_PART = "Pre-deployment checklist"
POST_PART = "Post-deployment checklist"


def _roles(roles: Sequence[str]) -> str:
    return " + ".join(ROLE_TITLES[role] for role in roles)


def approval_request_template(policy: Policy) -> FrameworkTemplate:
    """The model approval request template (framework appendix)."""
    required_at = ", ".join(policy.risk.mitigation_plan_required) or "no level"
    request = tuple(
        TemplateField(
            key=key,
            title=APPROVAL_GUIDANCE[key][0],
            guidance=APPROVAL_GUIDANCE[key][1],
            label=label,
            required=(
                f"at risk level {required_at}" if key == "mitigation_plan" else "yes"
            ),
        )
        for key, label in APPROVAL_TEMPLATE.items()
    )
    approvers = "; ".join(
        f"{level}: {_roles(roles)}" for level, roles in policy.risk.approvers.items()
    )
    binding = (
        _console("version", "Model and version", "As registered in the console."),
        _console("run_id", "Run id", "The MLflow run the version came from."),
        _console(
            "artifact_digest",
            "Artifact digest",
            "SHA-256 of the model's artifact files the assessment ran on.",
        ),
        _console("assessment_id", "Assessment", "The evidence the approvers judge."),
        _console(
            "security_assessment_id",
            "Security assessment",
            "The security officer's assessment in this cycle.",
        ),
        _console(
            "change_class",
            "Change class",
            "Minor, major or critical against the version in production.",
        ),
        _console(
            "risk_level",
            "Risk level",
            "From the assessment and the security score; sets the approvers "
            f"({approvers}).",
        ),
        _console(
            "policy_version",
            "Policy version",
            "The policy in force; a new policy makes the approval stale.",
        ),
    )
    decisions = tuple(
        TemplateField(
            role,
            ROLE_TITLES[role],
            "Approve, or reject with the reason; never the person who requested.",
            required="when the risk level or change class requires this role",
        )
        for role in _approver_roles(policy)
    )
    return FrameworkTemplate(
        APPROVAL_REQUEST,
        "Model approval request",
        "A data scientist asks for one model version to be approved for deployment. "
        "The console binds the request to the evidence it was made on; the "
        "approvers the risk level requires decide it.",
        (
            TemplatePart(
                REQUEST_PART, "Written by the data scientist who asks.", request
            ),
            TemplatePart(
                BINDING_PART,
                "Filled in by the console when the request is submitted; if any of "
                "it changes afterwards, the request goes stale.",
                binding,
            ),
            TemplatePart(
                DECISIONS_PART,
                "One decision per required role, each by a different person.",
                decisions,
            ),
        ),
    )


def _console(key: str, title: str, guidance: str) -> TemplateField:
    return TemplateField(key, title, guidance, required="filled in by the console")


def _approver_roles(policy: Policy) -> list[str]:
    seen: list[str] = []
    for roles in policy.risk.approvers.values():
        seen += [role for role in roles if role not in seen]
    return seen


def risk_assessment_template(policy: Policy) -> FrameworkTemplate:
    """The risk assessment template (framework appendix)."""
    weights = policy.risk.factor_weights.model_dump()
    factors = tuple(
        TemplateField(
            name,
            FACTOR_GUIDANCE[name][0],
            f"{FACTOR_GUIDANCE[name][1]} Score 0-1, weight {weights[name]:g}.",
        )
        for name in FACTOR_NAMES
    )
    bands = policy.risk.bands
    level = (
        TemplateField(
            "score",
            "Risk score",
            "The weighted mean of the factors, never below the largest factor "
            f"times {policy.risk.max_factor_floor:g}.",
        ),
        TemplateField(
            "level",
            "Risk level",
            f"Low below {bands.low.below:g}, medium from {bands.medium.from_:g} to "
            f"{bands.medium.to:g}, high above {bands.high.above:g}.",
        ),
        TemplateField(
            "approvers",
            "Required approvers",
            "; ".join(
                f"{name}: {_roles(roles)}"
                for name, roles in policy.risk.approvers.items()
            )
            + ".",
        ),
    )
    evidence = (
        TemplateField("version", "Model and version", "As registered."),
        TemplateField("assessment", "Assessment", "Its id, date and policy version."),
        TemplateField(
            "artifact_digest",
            "Artifact digest",
            "SHA-256 of the artifact files assessed.",
        ),
    )
    standards = (
        TemplateField(
            "standards",
            "Standards",
            "Each data, performance and fairness standard with its value, its "
            "threshold from the policy and whether it is met.",
        ),
    )
    security = tuple(
        TemplateField(key, question, "Yes or no, answered by the security officer.")
        for key, question in SECURITY_QUESTIONS.items()
    )
    mitigation = (
        TemplateField(
            "mitigation_plan",
            "Risk mitigation plan",
            APPROVAL_GUIDANCE["mitigation_plan"][1],
            required=(
                "at risk level "
                + (", ".join(policy.risk.mitigation_plan_required) or "no level")
            ),
        ),
    )
    return FrameworkTemplate(
        RISK_ASSESSMENT,
        "Risk assessment",
        "The risk of one model version: five factors scored from the evidence, "
        "their aggregate and level under the policy, the security officer's "
        "assessment, and the plan that mitigates what drives the risk.",
        (
            TemplatePart(EVIDENCE_PART, "What was assessed.", evidence),
            TemplatePart(FACTORS_PART, "Each factor from 0 (none) to 1.", factors),
            TemplatePart(LEVEL_PART, "Under the policy's bands.", level),
            TemplatePart(STANDARDS_PART, "From the assessment's evidence.", standards),
            TemplatePart(
                SECURITY_PART,
                "The security officer's questionnaire; the artifact scan, PII "
                "exposure and who can change the model are checked by the console.",
                security,
            ),
            TemplatePart(MITIGATION_PART, "Written with the request.", mitigation),
        ),
    )


def compliance_checklist_template(policy: Policy) -> FrameworkTemplate:
    """The compliance checklist template (framework "Compliance Checklist")."""
    del policy
    development: list[TemplateField] = []
    compliance: list[TemplateField] = []
    for kind, (stage, permission, words) in SIGNOFFS.items():
        field = TemplateField(
            kind,
            SIGNOFF_TITLES[kind],
            f"{words[0].upper()}{words[1:]}; signed by: "
            f"{_roles(allowed_roles(permission))}.",
        )
        (development if stage == "development" else compliance).append(field)
    pre = tuple(
        TemplateField(key, title, PRE_DEPLOYMENT_GUIDANCE[key], required="system")
        for key, title in PRE_DEPLOYMENT.items()
    )
    post = tuple(
        TemplateField(
            key,
            title,
            POST_DEPLOYMENT_GUIDANCE[key],
            required=_roles(allowed_roles(f"post_deployment.{key}")),
        )
        for key, title in POST_DEPLOYMENT.items()
    )
    return FrameworkTemplate(
        COMPLIANCE_CHECKLIST,
        "Compliance checklist",
        "What must be true before a version is deployed, and what must follow once "
        "it is live. The console ticks the pre-deployment items from the records; "
        "the person responsible ticks each post-deployment item.",
        (
            TemplatePart(DEVELOPMENT_PART, "Stage 1, development.", tuple(development)),
            TemplatePart(
                COMPLIANCE_PART, "Stage 3, compliance check.", tuple(compliance)
            ),
            TemplatePart(
                PRE_PART, "Ticked by the console from the records.", pre, True
            ),
            TemplatePart(
                POST_PART,
                "Ticked by the role named against each item.",
                post,
                True,
            ),
        ),
    )


def framework_templates(policy: Policy) -> tuple[FrameworkTemplate, ...]:
    """The three templates of the framework's appendix, under ``policy``."""
    return (
        approval_request_template(policy),
        risk_assessment_template(policy),
        compliance_checklist_template(policy),
    )


def get_template(policy: Policy, key: str) -> FrameworkTemplate:
    """The template ``key`` (``model_approval_request``, ``risk_assessment``...)."""
    for template in framework_templates(policy):
        if template.key == key:
            return template
    keys = ", ".join(t.key for t in framework_templates(policy))
    raise NotFoundError(f"No template named {key!r}; use one of {keys}.")


def template_document(template: FrameworkTemplate, policy: Policy) -> Document:
    """A blank template as a document, to fill in or read."""
    sections = [Section("About this template", (Paragraph(template.purpose),))]
    for part in template.parts:
        if part.is_checklist:
            body: Table | Bullets = Bullets(
                tuple(
                    f"[ ] {field.title}: {field.guidance} (ticked by: {field.required})"
                    for field in part.fields
                )
            )
        else:
            body = Table(
                ("Field", "What goes in it", "Required", "Entry"),
                tuple(
                    (field.title, field.guidance, field.required, "")
                    for field in part.fields
                ),
            )
        sections.append(Section(part.heading, (Paragraph(part.intro), body)))
    return Document(
        template.title,
        f"Template of the governance framework, under policy {policy.version}.",
        tuple(sections),
    )


def template_markdown(template: FrameworkTemplate, policy: Policy) -> str:
    """The template as Markdown."""
    return render_markdown(template_document(template, policy))


def template_pdf(template: FrameworkTemplate, policy: Policy) -> bytes:
    """The template as a PDF file."""
    return render_pdf(template_document(template, policy))
