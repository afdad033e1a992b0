import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.assessment.risk import (
    FACTOR_NAMES,
    RiskFactor,
    aggregate_risk,
    bias_risk,
    data_quality_risk,
    performance_risk,
    ramp,
    security_risk,
    stability_risk,
    threshold_ratio,
)
from governance.errors import InvalidInputError
from governance.policy import FactorWeights, load_policy

POLICY = load_policy()

fractions = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
non_negative = st.floats(min_value=0.0, max_value=1e6, allow_nan=False)
rows = st.integers(min_value=0, max_value=10**7)


@pytest.fixture(scope="module")
def policy():
    return POLICY


def _with_risk(policy, **changes):
    return policy.model_copy(update={"risk": policy.risk.model_copy(update=changes)})


def _pair_worse_lower(values):
    """Two draws ordered so the second is the worse one (lower is worse)."""
    return st.tuples(values, values).map(lambda p: (max(p), min(p)))


def _pair_worse_higher(values):
    return st.tuples(values, values).map(lambda p: (min(p), max(p)))


# -- ramp and ratio -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("ratio", "risk"),
    [(0.0, 0.0), (0.5, 0.0), (0.75, 0.375), (1.0, 0.75), (1.5, 0.875), (2.0, 1.0)],
    ids=["ideal", "comfort-edge", "approaching", "at-threshold", "failing", "gross"],
)
def test_ramp_points(ratio, risk):
    assert ramp(ratio) == pytest.approx(risk)


@pytest.mark.parametrize(
    ("value", "threshold", "direction", "ratio"),
    [
        (0.85, 0.75, "minimum", 0.6),
        (0.5, 0.75, "minimum", 2.0),
        (0.05, 0.10, "maximum", 0.5),
        (5000, 10000, "minimum_count", 2.0),
        (0, 10000, "minimum_count", float("inf")),
        (1.0, 1.0, "minimum", 0.0),
        (0.99, 1.0, "minimum", float("inf")),
    ],
    ids=[
        "auc-comfortable",
        "auc-random",
        "dpd-half",
        "half-the-rows",
        "no-rows",
        "perfect-at-perfect-minimum",
        "short-of-perfect-minimum",
    ],
)
def test_threshold_ratio(value, threshold, direction, ratio):
    assert threshold_ratio(value, threshold, direction) == pytest.approx(ratio)


# -- factors, hand-computed ---------------------------------------------------------


def test_performance_risk_hand_computed(policy):
    factor = performance_risk(0.80, 0.75, 0.66, 0.15, policy)

    # recall: r = 0.34 / 0.30, risk = 0.75 + 0.25 * (r - 1).
    assert factor.score == pytest.approx(0.75 + 0.25 * (0.34 / 0.30 - 1))
    assert factor.driver == "recall 0.66 below 0.70"
    assert factor.parts["AUC"] == pytest.approx(0.75 * (0.8 - 0.5) / 0.5)
    assert factor.parts["Brier score"] == pytest.approx(0.75 * (0.75 - 0.5) / 0.5)


def test_performance_risk_comfortable_is_zero(policy):
    factor = performance_risk(0.92, 0.88, 0.86, 0.08, policy)

    assert factor.score == 0.0
    assert factor.driver == "all evidence comfortably within policy"


def test_performance_driver_when_approaching(policy):
    factor = performance_risk(0.80, 0.90, 0.90, 0.05, policy)

    assert factor.driver == "AUC 0.80 close to the 0.75 minimum"


@pytest.mark.parametrize(
    ("arguments", "score", "driver"),
    [
        ((0.99, 50_000, 30.0, False), 0.0, "all evidence comfortably within policy"),
        ((0.99, 50_000, None, False), 0.75, "training data age not assessable"),
        ((0.99, 50_000, 30.0, True), 1.0, "PII columns used as features"),
        ((0.90, 50_000, 30.0, False), 1.0, "quality score 0.90 below 0.95"),
        ((0.99, 8_000, 30.0, False), 0.75 + 0.25 * 0.25, "training rows 8000 below"),
        ((0.99, 50_000, 274.5, False), 0.875, "training data age (days) 274.50 above"),
    ],
    ids=[
        "comfortable",
        "age-unknown",
        "pii-feature",
        "low-quality",
        "few-rows",
        "stale",
    ],
)
def test_data_quality_risk(policy, arguments, score, driver):
    factor = data_quality_risk(*arguments, policy)

    assert factor.score == pytest.approx(score)
    assert factor.driver.startswith(driver)


def test_pii_allowed_by_policy_carries_no_risk(policy):
    section = policy.data_standards.model_copy(update={"pii_in_features_allowed": True})
    allowing = policy.model_copy(update={"data_standards": section})

    assert data_quality_risk(0.99, 50_000, 30.0, True, allowing).score == 0.0


@pytest.mark.parametrize(
    ("dpd", "eod", "score", "driver"),
    [
        (0.02, 0.04, 0.0, "disparities comfortably within policy"),
        (
            0.08,
            0.02,
            0.45,
            "demographic parity difference 0.08 close to the 0.10 maximum",
        ),
        (0.04, 0.12, 0.80, "equalized odds difference 0.12 above 0.10"),
        (0.25, 0.12, 1.0, "demographic parity difference 0.25 above 0.10"),
    ],
    ids=["comfortable", "approaching", "failing", "gross"],
)
def test_bias_risk(policy, dpd, eod, score, driver):
    factor = bias_risk(dpd, eod, policy)

    assert factor.score == pytest.approx(score)
    assert factor.driver == driver


@pytest.mark.parametrize(
    ("spread", "degradation", "psi", "score", "driver"),
    [
        (0.02, None, None, 0.0, "all evidence comfortably within policy"),
        (0.02, -0.05, 0.05, 0.0, "all evidence comfortably within policy"),
        (0.02, 0.15, 0.05, 0.875, "degradation 0.15 above 0.10"),
        (0.02, None, 0.30, 0.80, "largest feature PSI 0.30 above 0.25"),
        (0.08, None, None, 0.45, "metric spread 0.08 close to the 0.10 maximum"),
    ],
    ids=["no-current-data", "improved", "degraded", "drifted", "wide-spread"],
)
def test_stability_risk(policy, spread, degradation, psi, score, driver):
    factor = stability_risk(spread, degradation, psi, policy)

    assert factor.score == pytest.approx(score)
    assert factor.driver == driver


def test_security_risk():
    assert security_risk(None) == RiskFactor(
        "security", 1.0, "not assessed, counted as 1.0"
    )
    assert security_risk(0.3).score == 0.3


@pytest.mark.parametrize(
    "call",
    [
        lambda p: performance_risk(1.2, 0.8, 0.8, 0.1, p),
        lambda p: performance_risk(float("nan"), 0.8, 0.8, 0.1, p),
        lambda p: bias_risk(-0.1, 0.0, p),
        lambda p: data_quality_risk(0.99, -1, 10.0, False, p),
        lambda p: data_quality_risk(0.99, 100, -3.0, False, p),
        lambda p: stability_risk(float("inf"), None, None, p),
        lambda p: stability_risk(0.1, float("nan"), None, p),
        lambda p: stability_risk(0.1, None, -0.2, p),
        lambda p: security_risk(1.5),
    ],
    ids=[
        "auc-above-one",
        "auc-nan",
        "negative-dpd",
        "negative-rows",
        "negative-age",
        "infinite-spread",
        "nan-degradation",
        "negative-psi",
        "security-above-one",
    ],
)
def test_factors_reject_bad_evidence(policy, call):
    with pytest.raises(InvalidInputError):
        call(policy)


# -- aggregate, hand-computed -------------------------------------------------------


@pytest.mark.parametrize(
    ("scores", "weighted", "score", "level"),
    [
        ([0.0, 0.0, 0.0, 0.0, 0.0], 0.0, 0.0, "low"),
        ([0.2, 0.4, 0.0, 0.1, 0.3], 0.2, 0.3, "low"),
        ([0.5, 0.6, 0.5, 0.5, 0.4], 0.5, 0.5, "medium"),
        ([0.8, 0.1, 0.1, 0.1, 0.1], 0.24, 0.6, "medium"),
        ([0.0, 0.0, 0.0, 0.0, 1.0], 0.2, 0.75, "high"),
        ([0.9, 0.9, 0.9, 0.9, 0.9], 0.9, 0.9, "high"),
        ([0.4, 0.4, 0.4, 0.4, 0.4], 0.4, 0.4, "medium"),
        ([0.7, 0.7, 0.7, 0.7, 0.7], 0.7, 0.7, "medium"),
    ],
    ids=[
        "all-zero",
        "floor-wins-low",
        "weighted-wins-medium",
        "floor-lifts-to-medium",
        "one-factor-at-max",
        "all-high",
        "at-medium-lower-edge",
        "at-high-edge-is-medium",
    ],
)
def test_aggregate_hand_computed(policy, scores, weighted, score, level):
    factors = dict(zip(FACTOR_NAMES, scores, strict=True))

    result = aggregate_risk(factors, policy)

    assert result.weighted_score == pytest.approx(weighted)
    assert result.floor_score == pytest.approx(max(scores) * 0.75)
    assert result.score == pytest.approx(score)
    assert result.level == level
    assert result.required_approvers == tuple(policy.risk.approvers[level])
    assert result.mitigation_plan_required is (level == "high")


def test_aggregate_with_changed_weights(policy):
    weights = FactorWeights(
        data_quality=0.1, performance=0.6, bias=0.1, stability=0.1, security=0.1
    )
    changed = _with_risk(policy, factor_weights=weights, max_factor_floor=0.5)
    factors = {"data_quality": 0.0, "performance": 0.9, "bias": 0.0}
    factors |= {"stability": 0.0, "security": 0.2}

    result = aggregate_risk(factors, changed)

    # weighted 0.6 * 0.9 + 0.1 * 0.2 = 0.56; floor 0.9 * 0.5 = 0.45.
    assert result.score == pytest.approx(0.56)
    assert result.level == "medium"
    assert result.required_approvers == ("model_owner", "compliance_officer")


def test_aggregate_counts_unassessed_as_one(policy):
    result = aggregate_risk(
        {"data_quality": 0.0, "performance": 0.0, "bias": 0.0, "stability": 0.0},
        policy,
    )

    assert result.unassessed == ("security",)
    assert result.factors["security"] == 1.0
    assert result.drivers["security"] == "not assessed, counted as 1.0"
    assert result.level == "high"


def test_aggregate_keeps_factor_drivers(policy):
    factors = {
        "data_quality": data_quality_risk(0.99, 50_000, 30.0, False, policy),
        "performance": performance_risk(0.80, 0.75, 0.66, 0.15, policy),
        "bias": bias_risk(0.02, 0.03, policy),
        "stability": stability_risk(0.02, None, None, policy),
        "security": security_risk(0.1),
    }

    result = aggregate_risk(factors, policy)

    assert result.drivers["performance"] == "recall 0.66 below 0.70"
    assert result.drivers["security"] == "security assessment score 0.10"
    # weighted 0.2 * (0.7833 + 0.1) = 0.1767; floor 0.7833 * 0.75 = 0.5875.
    assert result.score == pytest.approx(0.75 * (0.75 + 0.25 * (0.34 / 0.30 - 1)))
    assert result.level == "medium"
    as_dict = result.to_dict()
    assert json.loads(json.dumps(as_dict)) == as_dict


@pytest.mark.parametrize(
    "factors",
    [
        {"reputation": 0.1},
        {"bias": 1.5},
        {"bias": float("nan")},
        {"bias": RiskFactor("performance", 0.1, "")},
    ],
    ids=["unknown-name", "above-one", "nan", "misfiled-factor"],
)
def test_aggregate_rejects_bad_factors(policy, factors):
    with pytest.raises(InvalidInputError):
        aggregate_risk(factors, policy)


# -- properties ---------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    auc=_pair_worse_lower(fractions),
    precision=_pair_worse_lower(fractions),
    recall=_pair_worse_lower(fractions),
    brier=_pair_worse_higher(fractions),
)
def test_worse_performance_never_lowers_risk(auc, precision, recall, brier):
    better = performance_risk(auc[0], precision[0], recall[0], brier[0], POLICY)
    worse = performance_risk(auc[1], precision[1], recall[1], brier[1], POLICY)

    assert 0.0 <= better.score <= worse.score <= 1.0


@settings(max_examples=200, deadline=None)
@given(
    quality=_pair_worse_lower(fractions),
    volume=_pair_worse_lower(rows),
    age=_pair_worse_higher(non_negative),
    pii=st.tuples(st.booleans(), st.booleans()).map(lambda p: (p[0] and p[1], p[1])),
)
def test_worse_data_never_lowers_risk(quality, volume, age, pii):
    better = data_quality_risk(quality[0], volume[0], age[0], pii[0], POLICY)
    worse = data_quality_risk(quality[1], volume[1], age[1], pii[1], POLICY)

    assert 0.0 <= better.score <= worse.score <= 1.0


@settings(max_examples=200, deadline=None)
@given(dpd=_pair_worse_higher(fractions), eod=_pair_worse_higher(fractions))
def test_worse_disparity_never_lowers_risk(dpd, eod):
    better = bias_risk(dpd[0], eod[0], POLICY)
    worse = bias_risk(dpd[1], eod[1], POLICY)

    assert 0.0 <= better.score <= worse.score <= 1.0


@settings(max_examples=200, deadline=None)
@given(
    spread=_pair_worse_higher(non_negative),
    degradation=_pair_worse_higher(st.floats(-1.0, 1.0, allow_nan=False)),
    psi=_pair_worse_higher(non_negative),
)
def test_worse_stability_never_lowers_risk(spread, degradation, psi):
    better = stability_risk(spread[0], degradation[0], psi[0], POLICY)
    worse = stability_risk(spread[1], degradation[1], psi[1], POLICY)

    assert 0.0 <= better.score <= worse.score <= 1.0


factor_scores = st.fixed_dictionaries({name: fractions for name in FACTOR_NAMES})


@settings(max_examples=300, deadline=None)
@given(
    scores=factor_scores,
    worsen=st.sampled_from(FACTOR_NAMES),
    amount=fractions,
)
def test_worse_factor_never_lowers_aggregate(scores, worsen, amount):
    worse_scores = dict(scores)
    worse_scores[worsen] = scores[worsen] + (1.0 - scores[worsen]) * amount

    better = aggregate_risk(scores, POLICY)
    worse = aggregate_risk(worse_scores, POLICY)

    assert 0.0 <= better.score <= worse.score <= 1.0


@settings(max_examples=300, deadline=None)
@given(scores=factor_scores, maxed=st.sampled_from(FACTOR_NAMES))
def test_one_factor_at_maximum_is_high(scores, maxed):
    scores = {**scores, maxed: 1.0}

    result = aggregate_risk(scores, POLICY)

    assert result.level == "high"
    assert result.mitigation_plan_required


@settings(max_examples=100, deadline=None)
@given(
    auc=st.floats(0.0, 0.5),
    dpd=st.floats(0.2, 1.0),
)
def test_gross_failure_alone_makes_the_model_high_risk(auc, dpd):
    comfortable = {
        "data_quality": data_quality_risk(0.99, 50_000, 30.0, False, POLICY),
        "bias": bias_risk(0.0, 0.0, POLICY),
        "stability": stability_risk(0.0, None, None, POLICY),
        "security": security_risk(0.0),
    }

    for factors in (
        {**comfortable, "performance": performance_risk(auc, 0.9, 0.9, 0.05, POLICY)},
        {
            **comfortable,
            "performance": performance_risk(0.95, 0.9, 0.9, 0.05, POLICY),
            "bias": bias_risk(dpd, 0.0, POLICY),
        },
    ):
        assert aggregate_risk(factors, POLICY).level == "high"
