"""The retraining triggers of the policy, evaluated on one scored window.

Framework, "Retraining Triggers": a performance drop from the baseline
(``monitoring.performance_drop_fraction`` of each metric in
``monitoring.performance_drop_metrics``), data drift on any feature
(``drift.psi_retrain``), a fairness violation (a demographic parity difference
at ``fairness.max_demographic_parity_difference``, when
``monitoring.retrain_on_fairness_violation``), and the schedule
(``monitoring.scheduled_retraining``).

Every comparison goes through `reaches`: a trigger fires when its value reaches
the threshold, inclusive. That is the console's reading of the framework's "> 10 %"
and "PSI > 0.25", stated in ``policy.yaml``. The drift page's flags
(``governance.assessment.drift.drift_flags``) still read "PSI > 0.25" strictly, so
a feature at exactly the threshold is flagged "warn" there and fires here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from dateutil.relativedelta import relativedelta

from governance.assessment.stability import relative_drop
from governance.policy import Policy, reaches

logger = logging.getLogger(__name__)

PERFORMANCE_DROP, DATA_DRIFT = "performance_drop", "data_drift"
FAIRNESS_VIOLATION, SCHEDULED = "fairness_violation", "scheduled"
TRIGGER_KINDS = (PERFORMANCE_DROP, DATA_DRIFT, FAIRNESS_VIOLATION, SCHEDULED)
TRIGGER_TITLES = {
    PERFORMANCE_DROP: "Performance drop",
    DATA_DRIFT: "Data drift",
    FAIRNESS_VIOLATION: "Fairness violation",
    SCHEDULED: "Scheduled retraining",
}
CADENCE_STEPS = {
    "daily": relativedelta(days=1),
    "weekly": relativedelta(weeks=1),
    "monthly": relativedelta(months=1),
    "quarterly": relativedelta(months=3),
    "annually": relativedelta(years=1),
}


@dataclass(frozen=True)
class FiredTrigger:
    """One trigger that fired: on what, with which value, against which threshold."""

    kind: str
    subject: str
    value: float
    threshold: float
    description: str


def performance_trigger_line(baseline: float, policy: Policy) -> float:
    """The value of a metric at which its drop from ``baseline`` fires."""
    return baseline * (1.0 - policy.monitoring.performance_drop_fraction)


def performance_triggers(
    current: Mapping[str, float | None],
    baseline: Mapping[str, float],
    policy: Policy,
) -> list[FiredTrigger]:
    """A trigger per watched metric that fell to its line below the baseline."""
    fired = []
    for metric in policy.monitoring.performance_drop_metrics:
        value, base = current.get(metric), baseline.get(metric)
        if value is None or base is None:
            continue
        if base <= 0:
            continue
        line = performance_trigger_line(base, policy)
        drop = relative_drop(base, value)
        if reaches(drop, policy.monitoring.performance_drop_fraction):
            fired.append(
                FiredTrigger(
                    PERFORMANCE_DROP,
                    metric,
                    value,
                    line,
                    f"{metric} {value:.4f} fell {drop:.1%} below the baseline "
                    f"{base:.4f} (trigger at a drop of "
                    f"{policy.monitoring.performance_drop_fraction:.0%}, {line:.4f}).",
                )
            )
    return fired


def drift_triggers(psi: Mapping[str, float], policy: Policy) -> list[FiredTrigger]:
    """A trigger per feature whose PSI reached ``drift.psi_retrain``."""
    limit = policy.drift.psi_retrain
    return [
        FiredTrigger(
            DATA_DRIFT,
            feature,
            value,
            limit,
            f"PSI of {feature} is {value:.3f}, at or above the retraining "
            f"threshold {limit:g}.",
        )
        for feature, value in sorted(psi.items(), key=lambda item: -item[1])
        if reaches(value, limit)
    ]


def fairness_triggers(
    disparities: Mapping[str, float | None], policy: Policy
) -> list[FiredTrigger]:
    """A trigger per sensitive feature whose disparity reached the policy's bound."""
    if not policy.monitoring.retrain_on_fairness_violation:
        return []
    bound = policy.fairness.max_demographic_parity_difference
    return [
        FiredTrigger(
            FAIRNESS_VIOLATION,
            feature,
            value,
            bound,
            f"Demographic parity difference across {feature} is {value:.3f}, at or "
            f"above the bound {bound:g}.",
        )
        for feature, value in disparities.items()
        if value is not None and reaches(value, bound)
    ]


def scheduled_due(since: datetime, policy: Policy) -> datetime:
    """When scheduled retraining is due, one cadence step after ``since``."""
    return since + CADENCE_STEPS[policy.monitoring.scheduled_retraining]


def scheduled_trigger(
    since: datetime, now: datetime, policy: Policy
) -> FiredTrigger | None:
    """The scheduled trigger when a cadence step has passed since ``since``."""
    due = scheduled_due(since, policy)
    if not reaches(now.timestamp(), due.timestamp()):
        return None
    days = (now - since).total_seconds() / 86_400
    return FiredTrigger(
        SCHEDULED,
        "schedule",
        days,
        (due - since).total_seconds() / 86_400,
        f"Scheduled retraining ({policy.monitoring.scheduled_retraining}) was due on "
        f"{due:%Y-%m-%d}: {days:.0f} days since {since:%Y-%m-%d}, when the version "
        "went to production or retraining was last requested.",
    )
