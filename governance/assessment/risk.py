r"""Risk factors and the aggregate risk score of a model version.

The framework ("Risk Assessment Framework") names five risk factors, each in
[0, 1]: data quality, performance, bias, stability and security. This module turns
the evidence of the other assessments into those factors and aggregates them into
a risk score, a risk level, the required approvers and whether a mitigation plan is
required. Every threshold comes from the policy passed in.

Threshold ratio
---------------
Each piece of evidence ``x`` is compared with its policy threshold ``t`` through a
*threshold ratio* ``r``: the distance of ``x`` from the ideal value, as a multiple
of the distance the policy allows. ``r = 1`` means exactly at the threshold, ``r < 1``
inside it, ``r > 1`` failing it:

- minimum on a 0-1 scale (AUC, precision, recall, quality score; ideal 1)::

      r = (1 - x) / (1 - t)

- maximum (demographic parity difference, equalized odds difference, Brier score,
  PSI, age in days, metric spread, degradation; ideal 0)::

      r = x / t

- minimum count (training rows)::

      r = t / x

(when the allowed distance is 0, ``r`` is 0 at the ideal and infinite elsewhere).

Ramp
----
A ratio becomes a risk in [0, 1] by a continuous, non-decreasing, piecewise
linear ramp with three constants, ``c = COMFORT_RATIO`` (0.5), ``g = GROSS_RATIO``
(2.0) and ``a = AT_THRESHOLD`` (0.75)::

    ramp(r) = 0                                  if r <= c
            = a * (r - c) / (1 - c)              if c < r <= 1
            = a + (1 - a) * (r - 1) / (g - 1)    if 1 < r < g
            = 1                                  if r >= g

So evidence that uses at most half of the allowed distance is risk 0; evidence
exactly at the threshold is 0.75, failing evidence is above 0.75, and evidence
twice as far from the ideal as allowed (AUC 0.5 against a 0.75 minimum, demographic
parity difference 0.2 against 0.1, half the required rows) is 1.

Factors
-------
Each factor is the largest ramp among its evidence, so no passing measure can
average away a failing one:

- ``data_quality = max(ramp(r_quality), ramp(r_rows), ramp(r_age), pii)``,
  with ``r_age`` against ``data_standards.max_training_age_days``; an age that is
  not assessable counts as ``a`` (a failed standard); ``pii`` is 1 when PII columns
  are features and the policy does not allow it, else 0.
- ``performance = max(ramp(r_auc), ramp(r_precision), ramp(r_recall),
  ramp(r_brier))`` against ``performance.min_auc``, ``min_precision``,
  ``min_recall`` and ``max_brier_score``.
- ``bias = max(ramp(r_dpd), ramp(r_eod))`` against
  ``fairness.max_demographic_parity_difference`` and
  ``max_equalized_odds_difference``.
- ``stability = max(ramp(r_spread), ramp(r_degradation), ramp(r_psi))``.
  ``metric_spread`` is the relative spread of the model's metric across evaluation
  slices ((max - min) / mean) and ``degradation_fraction`` the relative drop of the
  metric on current data; both are held to ``monitoring.performance_drop_fraction``,
  the drop that triggers retraining. ``max_feature_psi`` is held to
  ``drift.psi_retrain``. Evidence that was not computed (``None``) is left out.
- ``security`` is the score of the security assessment; ``None`` means not
  assessed and counts as 1.

Aggregate
---------
With the weights ``w`` of ``risk.factor_weights`` (they add up to 1) and
``f = risk.max_factor_floor``::

    weighted = sum over factors of w_i * factor_i
    score    = max(weighted, f * max_i factor_i)

The score is rounded to 12 decimals so floating-point noise cannot move a score
sitting exactly on a band edge into the next band. The floor keeps one factor at
its maximum from being averaged down: with the shipped policy
``0.75 * 1.0 = 0.75 > 0.7``, so any factor at 1 makes the model high risk. The
level is ``risk.level(score)``; the approvers and whether a mitigation plan is
required follow from the level.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from governance.errors import InvalidInputError
from governance.policy import Policy, RiskLevel

logger = logging.getLogger(__name__)

COMFORT_RATIO = 0.5
"""Threshold ratio at or below which evidence carries no risk."""

GROSS_RATIO = 2.0
"""Threshold ratio at or above which evidence carries full risk."""

AT_THRESHOLD = 0.75
"""Risk of evidence exactly at its policy threshold; failing evidence is above."""

_SCORE_DIGITS = 12

FACTOR_NAMES = ("data_quality", "performance", "bias", "stability", "security")

Direction = Literal["minimum", "maximum", "minimum_count"]


@dataclass(frozen=True)
class RiskFactor:
    """One risk factor, with what drove it.

    Attributes
    ----------
    name
        One of `FACTOR_NAMES`.
    score
        The factor in [0, 1].
    driver
        Short text naming the evidence that set the score.
    parts
        Risk of each piece of evidence; the factor is their maximum.
    """

    name: str
    score: float
    driver: str
    parts: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the factor as plain JSON-serialisable values."""
        return {
            "name": self.name,
            "score": self.score,
            "driver": self.driver,
            "parts": dict(self.parts),
        }


@dataclass(frozen=True)
class RiskResult:
    """The aggregate risk of a model version.

    Attributes
    ----------
    factors
        The five factors as used in the score (unassessed ones at 1.0).
    drivers
        What drove each factor.
    unassessed
        Factors that had no evidence and were counted as 1.0.
    weighted_score
        Weighted mean of the factors.
    floor_score
        Largest factor times ``risk.max_factor_floor``.
    score
        The larger of `weighted_score` and `floor_score`.
    level
        Risk level of `score` under the policy's bands.
    required_approvers
        Roles that must approve at this level.
    mitigation_plan_required
        Whether this level requires a risk mitigation plan.
    policy_version
        Version of the policy the score was computed under.
    """

    factors: dict[str, float]
    drivers: dict[str, str]
    unassessed: tuple[str, ...]
    weighted_score: float
    floor_score: float
    score: float
    level: RiskLevel
    required_approvers: tuple[str, ...]
    mitigation_plan_required: bool
    policy_version: str

    def to_dict(self) -> dict[str, Any]:
        """Return the result as plain JSON-serialisable values."""
        return {
            "factors": dict(self.factors),
            "drivers": dict(self.drivers),
            "unassessed": list(self.unassessed),
            "weighted_score": self.weighted_score,
            "floor_score": self.floor_score,
            "score": self.score,
            "level": self.level,
            "required_approvers": list(self.required_approvers),
            "mitigation_plan_required": self.mitigation_plan_required,
            "policy_version": self.policy_version,
        }


# -- building blocks --------------------------------------------------------------


def threshold_ratio(value: float, threshold: float, direction: Direction) -> float:
    """Distance of ``value`` from the ideal as a multiple of the allowed distance.

    Parameters
    ----------
    value
        The evidence.
    threshold
        Its policy threshold.
    direction
        ``"minimum"`` for a 0-1 measure that must reach ``threshold`` (ideal 1),
        ``"maximum"`` for a measure that must stay at or below it (ideal 0),
        ``"minimum_count"`` for a count that must reach it.

    Returns
    -------
    float
        1 at the threshold, below 1 inside it, above 1 when failing it.
    """
    if direction == "minimum":
        gap, allowed = 1.0 - value, 1.0 - threshold
    elif direction == "maximum":
        gap, allowed = value, threshold
    else:
        gap, allowed = threshold, value
    if allowed <= 0:
        return 0.0 if gap <= 0 else math.inf
    return gap / allowed


def ramp(ratio: float) -> float:
    """Risk in [0, 1] of a threshold ratio (see the module docstring)."""
    if ratio <= COMFORT_RATIO:
        return 0.0
    if ratio <= 1.0:
        return AT_THRESHOLD * (ratio - COMFORT_RATIO) / (1.0 - COMFORT_RATIO)
    if ratio < GROSS_RATIO:
        return AT_THRESHOLD + (1.0 - AT_THRESHOLD) * (ratio - 1.0) / (GROSS_RATIO - 1.0)
    return 1.0


@dataclass(frozen=True)
class _Evidence:
    label: str
    value: float
    threshold: float
    direction: Direction

    @property
    def risk(self) -> float:
        return ramp(threshold_ratio(self.value, self.threshold, self.direction))

    def describe(self) -> str:
        value, threshold = _format_pair(self.value, self.threshold)
        bound = "maximum" if self.direction == "maximum" else "minimum"
        ratio = threshold_ratio(self.value, self.threshold, self.direction)
        if ratio > 1.0:
            side = "above" if self.direction == "maximum" else "below"
            return f"{self.label} {value} {side} {threshold}"
        return f"{self.label} {value} close to the {threshold} {bound}"


def _format_pair(value: float, threshold: float) -> tuple[str, str]:
    if float(value).is_integer() and float(threshold).is_integer():
        return f"{value:.0f}", f"{threshold:.0f}"
    for digits in (2, 3, 4):
        shown = f"{value:.{digits}f}", f"{threshold:.{digits}f}"
        if shown[0] != shown[1] or value == threshold:
            return shown
    return f"{value:.6g}", f"{threshold:.6g}"


def _factor(
    name: str,
    evidence: list[_Evidence],
    *,
    extra: Mapping[str, tuple[float, str]] | None = None,
    comfortable: str = "all evidence comfortably within policy",
) -> RiskFactor:
    parts = {item.label: item.risk for item in evidence}
    texts = {item.label: item.describe() for item in evidence}
    for label, (risk, text) in (extra or {}).items():
        parts[label], texts[label] = risk, text

    score = max(parts.values(), default=0.0)
    worst = max(parts, key=parts.__getitem__) if parts else None
    driver = texts[worst] if worst is not None and score > 0 else comfortable
    return RiskFactor(name, score, driver, parts)


def _check_fraction(name: str, value: float) -> None:
    if isinstance(value, bool) or not 0.0 <= value <= 1.0:
        raise InvalidInputError(
            f"{name} must be a number between 0 and 1, got {value!r}. Pass the "
            "measured value from the assessment."
        )


def _check_non_negative(name: str, value: float) -> None:
    if isinstance(value, bool) or not (value >= 0.0 and math.isfinite(value)):
        raise InvalidInputError(
            f"{name} must be a finite number >= 0, got {value!r}. Pass the measured "
            "value from the assessment."
        )


# -- factors ----------------------------------------------------------------------


def data_quality_risk(
    quality_score: float,
    volume_rows: int,
    freshness_days: float | None,
    pii_in_features: bool,
    policy: Policy,
) -> RiskFactor:
    """Data quality risk from the data standards evidence.

    Parameters
    ----------
    quality_score
        Data quality score in [0, 1].
    volume_rows
        Number of training rows.
    freshness_days
        Age of the newest training row in days, or ``None`` when not assessable
        (counted as a failed standard).
    pii_in_features
        Whether PII columns are used as features.
    policy
        The governance policy.

    Returns
    -------
    RiskFactor
        ``data_quality`` in [0, 1] with what drove it.
    """
    _check_fraction("quality_score", quality_score)
    _check_non_negative("volume_rows", volume_rows)
    if freshness_days is not None:
        _check_non_negative("freshness_days", freshness_days)

    standards = policy.data_standards
    evidence = [
        _Evidence(
            "quality score", quality_score, standards.min_quality_score, "minimum"
        ),
        _Evidence(
            "training rows", volume_rows, standards.min_training_rows, "minimum_count"
        ),
    ]
    extra: dict[str, tuple[float, str]] = {}
    if freshness_days is None:
        extra["training data age"] = (
            AT_THRESHOLD,
            "training data age not assessable (no timestamp column)",
        )
    else:
        evidence.append(
            _Evidence(
                "training data age (days)",
                freshness_days,
                standards.max_training_age_days,
                "maximum",
            )
        )
    has_forbidden_pii = pii_in_features and not standards.pii_in_features_allowed
    extra["pii"] = (1.0 if has_forbidden_pii else 0.0, "PII columns used as features")
    return _factor("data_quality", evidence, extra=extra)


def performance_risk(
    auc: float, precision: float, recall: float, brier: float, policy: Policy
) -> RiskFactor:
    """Performance risk from discrimination, precision, recall and calibration.

    Parameters
    ----------
    auc, precision, recall
        Measured on the test data, each in [0, 1].
    brier
        Brier score on the test data, in [0, 1].
    policy
        The governance policy.

    Returns
    -------
    RiskFactor
        ``performance`` in [0, 1] with what drove it.
    """
    for name, value in (
        ("auc", auc),
        ("precision", precision),
        ("recall", recall),
        ("brier", brier),
    ):
        _check_fraction(name, value)

    standards = policy.performance
    evidence = [
        _Evidence("AUC", auc, standards.min_auc, "minimum"),
        _Evidence("precision", precision, standards.min_precision, "minimum"),
        _Evidence("recall", recall, standards.min_recall, "minimum"),
        _Evidence("Brier score", brier, standards.max_brier_score, "maximum"),
    ]
    return _factor("performance", evidence)


def bias_risk(
    demographic_parity_difference: float,
    equalized_odds_difference: float,
    policy: Policy,
) -> RiskFactor:
    """Bias risk from the largest disparities across sensitive features.

    Parameters
    ----------
    demographic_parity_difference
        Largest demographic parity difference over the sensitive features.
    equalized_odds_difference
        Largest equalized odds difference over the sensitive features.
    policy
        The governance policy.

    Returns
    -------
    RiskFactor
        ``bias`` in [0, 1] with what drove it.
    """
    _check_fraction("demographic_parity_difference", demographic_parity_difference)
    _check_fraction("equalized_odds_difference", equalized_odds_difference)

    standards = policy.fairness
    evidence = [
        _Evidence(
            "demographic parity difference",
            demographic_parity_difference,
            standards.max_demographic_parity_difference,
            "maximum",
        ),
        _Evidence(
            "equalized odds difference",
            equalized_odds_difference,
            standards.max_equalized_odds_difference,
            "maximum",
        ),
    ]
    return _factor(
        "bias", evidence, comfortable="disparities comfortably within policy"
    )


def stability_risk(
    metric_spread: float,
    degradation_fraction: float | None,
    max_feature_psi: float | None,
    policy: Policy,
) -> RiskFactor:
    """Stability risk from performance variance, degradation and drift.

    Parameters
    ----------
    metric_spread
        Relative spread of the model's metric across evaluation slices,
        ``(max - min) / mean``.
    degradation_fraction
        Relative drop of the metric on current data (negative for a gain), or
        ``None`` when there is no current data yet.
    max_feature_psi
        Largest population stability index over the features, or ``None`` when
        drift was not assessed.
    policy
        The governance policy.

    Returns
    -------
    RiskFactor
        ``stability`` in [0, 1] with what drove it.
    """
    _check_non_negative("metric_spread", metric_spread)
    if degradation_fraction is not None and not math.isfinite(degradation_fraction):
        raise InvalidInputError(
            "degradation_fraction must be a finite number, got "
            f"{degradation_fraction!r}."
        )
    if max_feature_psi is not None:
        _check_non_negative("max_feature_psi", max_feature_psi)

    drop = policy.monitoring.performance_drop_fraction
    evidence = [_Evidence("metric spread", metric_spread, drop, "maximum")]
    if degradation_fraction is not None:
        evidence.append(_Evidence("degradation", degradation_fraction, drop, "maximum"))
    if max_feature_psi is not None:
        evidence.append(
            _Evidence(
                "largest feature PSI",
                max_feature_psi,
                policy.drift.psi_retrain,
                "maximum",
            )
        )
    return _factor("stability", evidence)


def security_risk(score: float | None) -> RiskFactor:
    """Security risk as given by the security assessment.

    Parameters
    ----------
    score
        The security assessment's risk in [0, 1], or ``None`` when not assessed
        (counted as 1.0).

    Returns
    -------
    RiskFactor
        ``security`` in [0, 1] with what drove it.
    """
    if score is None:
        return RiskFactor("security", 1.0, "not assessed, counted as 1.0")
    _check_fraction("security risk", score)
    return RiskFactor(
        "security", float(score), f"security assessment score {score:.2f}"
    )


# -- aggregate --------------------------------------------------------------------


def aggregate_risk(
    factors: Mapping[str, RiskFactor | float | None], policy: Policy
) -> RiskResult:
    """Aggregate the five risk factors into a score, level and approvers.

    Parameters
    ----------
    factors
        Factor name (one of `FACTOR_NAMES`) to its `RiskFactor`, a bare score in
        [0, 1], or ``None`` when not assessed. Missing and ``None`` factors count
        as 1.0.
    policy
        The governance policy; ``policy.risk`` holds weights, floor, bands and
        approvers.

    Returns
    -------
    RiskResult
        Score, level, required approvers and what drove each factor.

    Raises
    ------
    InvalidInputError
        When a factor name is unknown or a score lies outside [0, 1].
    """
    unknown = sorted(set(factors) - set(FACTOR_NAMES))
    if unknown:
        raise InvalidInputError(
            f"Unknown risk factors: {', '.join(unknown)}. "
            f"Use {', '.join(FACTOR_NAMES)}."
        )
    resolved = {name: _resolve(name, factors.get(name)) for name in FACTOR_NAMES}
    scores = {name: factor.score for name, factor in resolved.items()}

    weights = policy.risk.factor_weights.model_dump()
    weighted = sum(weights[name] * score for name, score in scores.items())
    floor = max(scores.values()) * policy.risk.max_factor_floor
    # Rounding keeps floating-point noise (0.2 * 0.7 summed five times) from
    # moving a score that sits exactly on a band edge into the next band.
    score = round(min(1.0, max(weighted, floor)), _SCORE_DIGITS)
    level = policy.risk.level(score)

    result = RiskResult(
        factors=scores,
        drivers={name: factor.driver for name, factor in resolved.items()},
        unassessed=tuple(name for name in FACTOR_NAMES if factors.get(name) is None),
        weighted_score=weighted,
        floor_score=floor,
        score=score,
        level=level,
        required_approvers=tuple(policy.risk.approvers[level]),
        mitigation_plan_required=level in policy.risk.mitigation_plan_required,
        policy_version=policy.version,
    )
    logger.info("Risk assessed: score %.3f, level %s", score, level)
    return result


def _resolve(name: str, factor: RiskFactor | float | None) -> RiskFactor:
    if factor is None:
        return RiskFactor(name, 1.0, "not assessed, counted as 1.0")
    if isinstance(factor, RiskFactor):
        if factor.name != name:
            raise InvalidInputError(
                f"The factor given as {name!r} is the {factor.name!r} factor. "
                "Pass each factor under its own name."
            )
        _check_fraction(f"{name} risk", factor.score)
        return factor
    _check_fraction(f"{name} risk", factor)
    return RiskFactor(name, float(factor), f"given score {factor:.2f}")
