"""Each retraining trigger fires exactly at its policy threshold and not below."""

import math
from datetime import UTC, datetime

import pytest

from governance.operations.triggers import (
    DATA_DRIFT,
    FAIRNESS_VIOLATION,
    PERFORMANCE_DROP,
    SCHEDULED,
    drift_triggers,
    fairness_triggers,
    performance_trigger_line,
    performance_triggers,
    scheduled_due,
    scheduled_trigger,
)
from governance.policy import reaches

BASELINE = {"auc": 0.82, "precision": 0.74, "recall": 0.71}


def _just_above(value: float) -> float:
    return math.nextafter(value, math.inf)


def _just_below(value: float) -> float:
    return math.nextafter(value, -math.inf)


@pytest.mark.parametrize("metric", ["auc", "precision", "recall"])
def test_performance_drop_fires_at_the_policy_fraction(policy, metric):
    line = performance_trigger_line(BASELINE[metric], policy)
    fraction = policy.monitoring.performance_drop_fraction

    fired = performance_triggers({metric: line}, BASELINE, policy)

    assert line == pytest.approx(BASELINE[metric] * (1 - fraction))
    assert [(t.kind, t.subject, t.value, t.threshold) for t in fired] == [
        (PERFORMANCE_DROP, metric, line, line)
    ]


@pytest.mark.parametrize("metric", ["auc", "precision", "recall"])
def test_performance_drop_below_the_fraction_does_not_fire(policy, metric):
    line = performance_trigger_line(BASELINE[metric], policy)

    # Drops are compared at 12 decimals (float noise at the boundary must not
    # decide), so "just above" is one nano-unit above the line, not one ulp.
    assert performance_triggers({metric: line + 1e-9}, BASELINE, policy) == []


def test_performance_drop_watches_only_the_policy_metrics(policy):
    narrowed = policy.model_copy(
        update={
            "monitoring": policy.monitoring.model_copy(
                update={"performance_drop_metrics": ["auc"]}
            )
        }
    )
    dropped = {name: 0.0 for name in BASELINE}

    fired = performance_triggers(dropped, BASELINE, narrowed)

    assert [t.subject for t in fired] == ["auc"]


def test_unmeasured_performance_fires_nothing(policy):
    assert performance_triggers({"auc": None}, BASELINE, policy) == []


def test_drift_fires_at_psi_retrain_and_not_below(policy):
    limit = policy.drift.psi_retrain
    psi = {"at": limit, "below": _just_below(limit), "far": limit * 3}

    fired = drift_triggers(psi, policy)

    assert [(t.kind, t.subject) for t in fired] == [
        (DATA_DRIFT, "far"),
        (DATA_DRIFT, "at"),
    ]
    assert all(t.threshold == limit for t in fired)


def test_fairness_fires_at_the_bound_and_not_below(policy):
    bound = policy.fairness.max_demographic_parity_difference
    disparities = {"region": bound, "gender": _just_below(bound), "age": None}

    fired = fairness_triggers(disparities, policy)

    assert [(t.kind, t.subject, t.value) for t in fired] == [
        (FAIRNESS_VIOLATION, "region", bound)
    ]


def test_fairness_trigger_is_off_when_the_policy_says_so(policy):
    off = policy.model_copy(
        update={
            "monitoring": policy.monitoring.model_copy(
                update={"retrain_on_fairness_violation": False}
            )
        }
    )
    bound = policy.fairness.max_demographic_parity_difference

    assert fairness_triggers({"region": bound * 2}, off) == []


def test_schedule_fires_one_calendar_month_on_and_not_before(policy):
    assert policy.monitoring.scheduled_retraining == "monthly"
    since = datetime(2026, 1, 31, 9, 30, tzinfo=UTC)
    due = scheduled_due(since, policy)

    at = scheduled_trigger(since, due, policy)
    before = scheduled_trigger(
        since, datetime(2026, 2, 28, 9, 29, 59, tzinfo=UTC), policy
    )

    assert due == datetime(2026, 2, 28, 9, 30, tzinfo=UTC)
    assert at is not None
    assert at.kind == SCHEDULED
    assert before is None


@pytest.mark.parametrize(
    ("value", "threshold", "falling", "expected"),
    [
        (0.25, 0.25, False, True),
        (0.2499, 0.25, False, False),
        (0.72, 0.72, True, True),
        (0.7201, 0.72, True, False),
    ],
    ids=["rising-at", "rising-below", "falling-at", "falling-above"],
)
def test_reaches_includes_the_threshold(value, threshold, falling, expected):
    assert reaches(value, threshold, falling=falling) is expected
