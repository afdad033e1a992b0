"""The governance framework as a versioned, validated policy file.

The policy is a YAML file (``policy.yaml`` beside this module by default, or the
file named by ``GOVERNANCE_POLICY``). It is parsed into frozen pydantic models, so
a malformed file fails on load with a message naming the key and the form it
expects. The content hash is the SHA-256 of the parsed content in canonical JSON,
so comments and layout do not change it but any number does.
"""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from governance.errors import PolicyError

DEFAULT_POLICY_PATH = Path(__file__).with_name("policy.yaml")

Role = Literal[
    "model_owner",
    "data_scientist",
    "ml_engineer",
    "compliance_officer",
    "security_officer",
    "admin",
]
RiskLevel = Literal["low", "medium", "high"]
Cadence = Literal["daily", "weekly", "monthly", "quarterly", "annually"]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
PositiveInt = Annotated[int, Field(gt=0)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataStandards(_Section):
    """Framework: data requirements."""

    min_quality_score: Fraction
    min_training_rows: PositiveInt
    max_training_age_days: PositiveInt
    pii_in_features_allowed: bool


class PerformanceStandards(_Section):
    """Framework: model performance standards."""

    min_auc: Fraction
    min_precision: Fraction
    min_recall: Fraction
    max_brier_score: Fraction


class FairnessStandards(_Section):
    """Bias thresholds and the smallest group that is judged."""

    max_demographic_parity_difference: Fraction
    max_equalized_odds_difference: Fraction
    min_group_size: PositiveInt


class DriftStandards(_Section):
    """PSI levels that warn and that trigger retraining."""

    psi_retrain: Annotated[float, Field(gt=0.0)]
    psi_warn: Annotated[float, Field(gt=0.0)]
    psi_bins: Annotated[int, Field(ge=2, le=100)]

    @model_validator(mode="after")
    def _warn_below_retrain(self) -> DriftStandards:
        if self.psi_warn >= self.psi_retrain:
            raise ValueError("psi_warn must be below psi_retrain")
        return self


class Explanations(_Section):
    """How much data SHAP explains."""

    shap_sample_rows: PositiveInt


class RiskBand(_Section):
    """One risk band: a score range."""

    below: Fraction | None = None
    from_: Fraction | None = Field(default=None, alias="from")
    to: Fraction | None = None
    above: Fraction | None = None


class RiskBands(_Section):
    """The three risk bands, which must meet without gaps."""

    low: RiskBand
    medium: RiskBand
    high: RiskBand

    @model_validator(mode="after")
    def _contiguous(self) -> RiskBands:
        low, medium, high = self.low.below, self.medium.from_, self.medium.to
        if low is None or medium is None or high is None or self.high.above is None:
            raise ValueError(
                "expected low: {below: x}, medium: {from: x, to: y}, high: {above: y}"
            )
        if not (low == medium and high == self.high.above and medium < high):
            raise ValueError(
                "bands must meet: low.below == medium.from < medium.to == high.above"
            )
        return self


class FactorWeights(_Section):
    """Weights of the five risk factors in the aggregate."""

    data_quality: Fraction
    performance: Fraction
    bias: Fraction
    stability: Fraction
    security: Fraction

    @model_validator(mode="after")
    def _sum_to_one(self) -> FactorWeights:
        total = sum(self.model_dump().values())
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"weights must add up to 1, they add up to {total:g}")
        return self


class RiskPolicy(_Section):
    """Risk bands, their approvers, and how factors aggregate."""

    bands: RiskBands
    approvers: dict[RiskLevel, list[Role]]
    mitigation_plan_required: list[RiskLevel]
    factor_weights: FactorWeights
    max_factor_floor: Fraction

    @property
    def medium_from(self) -> float:
        """Lowest score that is medium risk."""
        return float(self.bands.medium.from_)  # type: ignore[arg-type]

    @property
    def high_above(self) -> float:
        """Scores strictly above this are high risk."""
        return float(self.bands.high.above)  # type: ignore[arg-type]

    def level(self, score: float) -> RiskLevel:
        """Risk level of an aggregate score: low < 0.4 <= medium <= 0.7 < high."""
        if score > self.high_above:
            return "high"
        if score >= self.medium_from:
            return "medium"
        return "low"

    @field_validator("approvers")
    @classmethod
    def _every_level_has_approvers(
        cls, approvers: dict[RiskLevel, list[Role]]
    ) -> dict[RiskLevel, list[Role]]:
        missing = {"low", "medium", "high"} - set(approvers)
        if missing:
            raise ValueError(
                f"approvers missing for levels: {', '.join(sorted(missing))}"
            )
        return approvers


class Workflow(_Section):
    """The five approval stages, in order."""

    stages: list[str]


class ChangeClass(_Section):
    """One change class and who approves it."""

    examples: list[str]
    approvers: list[Role] | Literal["full_workflow"]


class ChangeManagement(_Section):
    """Minor, major and critical changes."""

    classes: dict[Literal["minor", "major", "critical"], ChangeClass]


class ServingEvidence(_Section):
    """Bounds on shadow and canary evidence read from prediction logs."""

    min_rows: PositiveInt
    min_shadow_agreement: Fraction
    max_score_psi: Annotated[float, Field(gt=0.0)]
    max_selection_rate_difference: Fraction


class Deployment(_Section):
    """Staged rollout: staging, shadow, canary steps, production."""

    steps: list[str]
    shadow_min_days: PositiveInt
    shadow_max_days: PositiveInt
    canary_percentages: list[Annotated[int, Field(gt=0, le=100)]]
    evidence: ServingEvidence

    @model_validator(mode="after")
    def _ordered(self) -> Deployment:
        if self.shadow_min_days > self.shadow_max_days:
            raise ValueError("shadow_min_days must not exceed shadow_max_days")
        if self.canary_percentages != sorted(set(self.canary_percentages)):
            raise ValueError("canary_percentages must increase strictly")
        if self.canary_percentages[-1] != 100:
            raise ValueError("the last canary percentage must be 100")
        return self


class Monitoring(_Section):
    """Production windows and the retraining triggers evaluated on them."""

    performance_drop_fraction: Fraction
    performance_drop_metrics: Annotated[
        list[Literal["auc", "precision", "recall"]], Field(min_length=1)
    ]
    min_window_rows: PositiveInt
    window: Literal["daily", "weekly", "monthly"]
    retrain_on_fairness_violation: bool
    scheduled_retraining: Cadence
    denied_burst_count: PositiveInt
    denied_burst_minutes: PositiveInt


ReviewKind = Literal["performance", "drift", "model", "governance"]
IncidentKind = Literal["performance", "bias", "security"]


class Reviews(_Section):
    """How often each review is due, and the role each review is assigned to."""

    performance: Cadence
    drift: Cadence
    model: Cadence
    governance: Cadence
    assigned_to: dict[ReviewKind, Role]
    max_notes_chars: PositiveInt

    @field_validator("assigned_to")
    @classmethod
    def _every_review_assigned(
        cls, assigned_to: dict[ReviewKind, Role]
    ) -> dict[ReviewKind, Role]:
        missing = {"performance", "drift", "model", "governance"} - set(assigned_to)
        if missing:
            raise ValueError(f"no role for reviews: {', '.join(sorted(missing))}")
        return assigned_to


class Playbook(_Section):
    """One incident kind's playbook: its steps in order and the role working it."""

    handled_by: Role
    steps: Annotated[
        list[Annotated[str, Field(pattern=r"^[a-z][a-z_]*$", max_length=40)]],
        Field(min_length=1),
    ]
    rollback_step: str | None = None

    @model_validator(mode="after")
    def _steps_known(self) -> Playbook:
        if len(set(self.steps)) != len(self.steps):
            raise ValueError("steps must not repeat")
        if self.rollback_step is not None and self.rollback_step not in self.steps:
            raise ValueError("rollback_step must be one of the steps")
        return self


class Incidents(_Section):
    """Incident reports and the playbook of each kind."""

    severities: Annotated[list[str], Field(min_length=1)]
    max_description_chars: PositiveInt
    max_note_chars: PositiveInt
    max_evidence_links: PositiveInt
    playbooks: dict[IncidentKind, Playbook]

    @field_validator("playbooks")
    @classmethod
    def _every_kind_has_a_playbook(
        cls, playbooks: dict[IncidentKind, Playbook]
    ) -> dict[IncidentKind, Playbook]:
        missing = {"performance", "bias", "security"} - set(playbooks)
        if missing:
            raise ValueError(f"no playbook for kinds: {', '.join(sorted(missing))}")
        return playbooks


class Reporting(_Section):
    """How often each report is due."""

    compliance_report: Cadence
    risk_assessment: Cadence
    governance_review: Cadence


class Training(_Section):
    """Required courses and their deadlines."""

    courses: list[str]
    new_member_days: PositiveInt
    refresher_days: PositiveInt
    on_policy_change: bool


class Retention(_Section):
    """How long each class of record is kept."""

    active_models_years: PositiveInt
    retired_models_years: PositiveInt
    audit_logs_years: PositiveInt
    compliance_reports_years: PositiveInt


class Alerts(_Section):
    """How alert deliveries are retried before they are given up."""

    delivery_max_attempts: PositiveInt
    delivery_first_retry_minutes: PositiveInt
    delivery_backoff_factor: Annotated[float, Field(ge=1.0)]
    delivery_claim_minutes: PositiveInt


class Policy(_Section):
    """Every number and rule of the governance framework, validated."""

    version: Annotated[str, Field(min_length=1)]
    data_standards: DataStandards
    performance: PerformanceStandards
    fairness: FairnessStandards
    drift: DriftStandards
    explanations: Explanations
    risk: RiskPolicy
    roles: list[Role]
    workflow: Workflow
    change_management: ChangeManagement
    deployment: Deployment
    monitoring: Monitoring
    reviews: Reviews
    incidents: Incidents
    reporting: Reporting
    training: Training
    retention: Retention
    alerts: Alerts

    @cached_property
    def content_hash(self) -> str:
        """SHA-256 of the policy's content in canonical JSON."""
        canonical = json.dumps(
            self.model_dump(mode="json", by_alias=True),
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def reaches(value: float, threshold: float, *, falling: bool = False) -> bool:
    """Whether ``value`` reached a policy threshold, the boundary included.

    The console's one reading of every threshold that flags or triggers: a PSI of
    exactly ``drift.psi_retrain``, a drop of exactly
    ``monitoring.performance_drop_fraction`` or a disparity of exactly the
    fairness bound counts (see the ``monitoring`` section of the policy file).

    Parameters
    ----------
    value, threshold
        The measured value and the policy's threshold.
    falling
        The value counts by falling to the threshold (a metric that dropped to
        its line) instead of rising to it (a PSI, a disparity, a drop).
    """
    return value <= threshold if falling else value >= threshold


def parse_policy(text: str, *, source: str = "policy") -> Policy:
    """Parse and validate policy YAML text.

    Parameters
    ----------
    text
        The YAML document.
    source
        Name of the file, used in error messages.

    Returns
    -------
    Policy
        The validated policy.

    Raises
    ------
    PolicyError
        When the YAML does not parse or a key is missing or malformed; the message
        names the first offending key and the form it expects.
    """
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{source}: not valid YAML ({exc}). Fix the syntax.") from exc
    if not isinstance(raw, dict):
        raise PolicyError(f"{source}: expected a mapping of sections at the top level.")

    try:
        return Policy.model_validate(raw)
    except ValidationError as exc:
        raise PolicyError(_describe(exc, source)) from exc


def _describe(exc: ValidationError, source: str) -> str:
    lines = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        got = error.get("input")
        shown = "" if isinstance(got, dict | list) else f", got {got!r}"
        lines.append(f"{source}: {key}: {error['msg']}{shown}")
    count = len(lines)
    head = f"The policy file is invalid ({count} problem{'s' if count > 1 else ''}):"
    return "\n".join([head, *lines, "Fix these keys and load the policy again."])


def load_policy(path: Path | None = None) -> Policy:
    """Read and validate the policy file at ``path`` (the shipped one by default)."""
    path = path or DEFAULT_POLICY_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(
            f"Cannot read the policy file {path}: {exc.strerror}. "
            "Check GOVERNANCE_POLICY or restore governance/policy.yaml."
        ) from exc
    return parse_policy(text, source=str(path))
