"""Group metrics and disparities against fairlearn.metrics."""

from __future__ import annotations

import json
import math

import fairlearn.metrics as flm
import numpy as np
import pandas as pd
import pytest

from governance.assessment.fairness import (
    ThresholdSweep,
    assess_fairness,
    demographic_parity_difference,
    disparities_at_threshold,
    equalized_odds_difference,
    group_codes,
    group_metrics,
)
from governance.errors import InvalidInputError
from governance.policy import Policy, load_policy

RATES = ["selection_rate", "true_positive_rate", "false_positive_rate"]


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy()


def _dataset(
    seed: int, rows: int, features: int
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    sensitive = pd.DataFrame(
        {
            "gender": rng.choice(
                ["female", "male", "other"], rows, p=[0.45, 0.45, 0.1]
            ),
            "region": rng.choice(["east", "north", "south", "west"], rows),
            "age_band": rng.choice([1, 2, 3], rows),
        }
    ).iloc[:, :features]
    y_true = rng.integers(0, 2, rows)
    y_pred = (rng.random(rows) < 0.35 + 0.1 * (sensitive.iloc[:, 0] == "male")).astype(
        int
    )
    return y_true, y_pred, sensitive


@pytest.fixture(
    params=[(0, 500, 1), (1, 3000, 1), (2, 800, 2), (3, 5000, 3), (4, 60, 3)],
    ids=[
        "one-feature",
        "one-feature-large",
        "two-features",
        "three-features",
        "sparse-intersections",
    ],
)
def dataset(request) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    return _dataset(*request.param)


def _metric_frame(y_true, y_pred, sensitive) -> pd.DataFrame:
    metrics = {
        "selection_rate": flm.selection_rate,
        "true_positive_rate": flm.true_positive_rate,
        "false_positive_rate": flm.false_positive_rate,
        "count": flm.count,
    }
    frame = flm.MetricFrame(
        metrics=metrics, y_true=y_true, y_pred=y_pred, sensitive_features=sensitive
    )
    return frame.by_group.dropna()  # fairlearn lists absent intersections as NaN


def test_group_metrics_equal_metric_frame(dataset):
    y_true, y_pred, sensitive = dataset

    table = group_metrics(y_true, y_pred, sensitive)

    expected = _metric_frame(y_true, y_pred, sensitive)
    assert table.index.equals(expected.index)
    np.testing.assert_allclose(
        table[RATES].to_numpy(), expected[RATES].to_numpy(), atol=1e-9
    )
    np.testing.assert_array_equal(table["count"], expected["count"])
    assert table["positives"].sum() == y_true.sum()


def test_differences_equal_fairlearn(dataset):
    y_true, y_pred, sensitive = dataset

    dpd = demographic_parity_difference(y_true, y_pred, sensitive_features=sensitive)
    eod = equalized_odds_difference(y_true, y_pred, sensitive_features=sensitive)

    expected_dpd = flm.demographic_parity_difference(
        y_true, y_pred, sensitive_features=sensitive
    )
    expected_eod = flm.equalized_odds_difference(
        y_true, y_pred, sensitive_features=sensitive
    )
    assert dpd == pytest.approx(expected_dpd, abs=1e-9)
    assert eod == pytest.approx(expected_eod, abs=1e-9)


@pytest.mark.parametrize(
    ("y_true", "y_pred", "groups"),
    [
        pytest.param(
            [0, 0, 0, 1, 1, 0], [1, 0, 0, 1, 0, 1], list("aaabbb"), id="no-positives"
        ),
        pytest.param(
            [1, 1, 1, 1, 0, 0], [1, 0, 1, 1, 0, 1], list("aaabbb"), id="no-negatives"
        ),
        pytest.param([0, 1, 0, 1], [0, 0, 0, 0], list("abab"), id="nothing-selected"),
    ],
)
def test_degenerate_groups_match_fairlearn(y_true, y_pred, groups):
    y_true, y_pred, groups = (
        np.array(y_true),
        np.array(y_pred),
        pd.Series(groups, name="g"),
    )

    table = group_metrics(y_true, y_pred, groups)
    eod = equalized_odds_difference(y_true, y_pred, sensitive_features=groups)

    expected = _metric_frame(y_true, y_pred, groups)
    np.testing.assert_allclose(
        table[RATES].to_numpy(), expected[RATES].to_numpy(), atol=1e-12
    )
    assert eod == pytest.approx(
        flm.equalized_odds_difference(y_true, y_pred, sensitive_features=groups),
        abs=1e-12,
    )


def test_group_without_positives_has_zero_true_positive_rate():
    table = group_metrics([0, 0, 1, 1], [1, 0, 1, 0], pd.Series(list("aabb"), name="g"))

    assert table.loc["a", "true_positive_rate"] == 0.0
    assert table.loc["a", "false_positive_rate"] == 0.5


def test_small_groups_are_flagged_and_excluded():
    y_true, y_pred, sensitive = _dataset(5, 2000, 1)
    sensitive = sensitive["gender"].copy()
    sensitive.iloc[:12] = "tiny"

    table = group_metrics(y_true, y_pred, sensitive, min_group_size=30)
    excluded = demographic_parity_difference(
        y_true, y_pred, sensitive_features=sensitive, min_group_size=30
    )
    kept = demographic_parity_difference(
        y_true,
        y_pred,
        sensitive_features=sensitive,
        min_group_size=30,
        exclude_small=False,
    )

    assert table["is_too_small"].to_dict() == {
        "female": False,
        "male": False,
        "other": False,
        "tiny": True,
    }
    is_large = (sensitive != "tiny").to_numpy()
    assert excluded == pytest.approx(
        flm.demographic_parity_difference(
            y_true[is_large], y_pred[is_large], sensitive_features=sensitive[is_large]
        ),
        abs=1e-12,
    )
    assert kept == pytest.approx(
        flm.demographic_parity_difference(y_true, y_pred, sensitive_features=sensitive),
        abs=1e-12,
    )


def test_difference_is_undefined_with_fewer_than_two_groups():
    value = demographic_parity_difference(
        [0, 1, 1],
        [0, 1, 0],
        sensitive_features=pd.Series(["a", "a", "b"]),
        min_group_size=2,
    )

    assert math.isnan(value)


def test_group_codes_are_sorted_intersections():
    sensitive = pd.DataFrame({"g": ["b", "a", "b", "a"], "r": [2, 1, 1, 1]})

    codes, groups = group_codes(sensitive)

    assert groups.tolist() == [("a", 1), ("b", 1), ("b", 2)]
    assert codes.tolist() == [2, 0, 1, 0]


def test_assess_fairness_covers_features_and_intersection(policy):
    y_true, y_pred, sensitive = _dataset(6, 4000, 2)
    y_score = np.where(y_pred == 1, 0.8, 0.2)

    assessment = assess_fairness(
        y_true, y_score, sensitive, threshold=0.5, policy=policy
    )

    assert [feature.name for feature in assessment.features] == [
        "gender",
        "region",
        "gender & region",
    ]
    gender = assessment.features[0]
    expected = flm.demographic_parity_difference(
        y_true, y_pred, sensitive_features=sensitive["gender"]
    )
    assert gender.demographic_parity.value == pytest.approx(expected, abs=1e-9)
    assert gender.demographic_parity.lowest_group in {"female", "other"}
    assert gender.demographic_parity.highest_group == "male"
    assert [s.name for s in gender.standards] == [
        "demographic_parity_difference (gender)"
    ]
    assert [s.threshold for s in gender.standards] == [
        policy.fairness.max_demographic_parity_difference
    ]
    assert [s.threshold for s in gender.indicators] == [
        policy.fairness.max_equalized_odds_difference
    ]
    assert gender.indicators[0].passed is bool(
        gender.equalized_odds.value < policy.fairness.max_equalized_odds_difference
    )
    assert gender.passed is bool(
        expected < policy.fairness.max_demographic_parity_difference
    )


def test_difference_equal_to_maximum_does_not_pass(policy):
    size = policy.fairness.min_group_size
    # Selection rates 0 and 3/30: exactly 0.1, the policy's maximum, in floating point.
    selected = int(round(policy.fairness.max_demographic_parity_difference * size))
    y_score = np.r_[np.zeros(size), np.ones(selected), np.zeros(size - selected)]
    y_true = np.tile([0, 1], size)
    sensitive = pd.DataFrame({"group": ["a"] * size + ["b"] * size})

    assessment = assess_fairness(
        y_true, y_score, sensitive, threshold=0.5, policy=policy
    )

    parity = assessment.features[0].standards[0]
    assert parity.value == policy.fairness.max_demographic_parity_difference
    assert parity.passed is False


def test_too_few_large_groups_is_not_assessable(policy):
    size = policy.fairness.min_group_size
    y_true = np.tile([0, 1], size)
    sensitive = pd.DataFrame({"group": ["a"] * (2 * size - 1) + ["b"]})

    assessment = assess_fairness(
        y_true, np.full(2 * size, 0.7), sensitive, threshold=0.5, policy=policy
    )

    feature = assessment.features[0]
    assert feature.demographic_parity.excluded_groups == ["b"]
    assert [(s.value, s.passed) for s in feature.standards] == [(None, None)]
    assert [(s.value, s.passed) for s in feature.indicators] == [(None, None)]
    assert "not assessable" in feature.standards[0].detail
    # A comparison that cannot be made is reported, and does not fail the standard.
    assert assessment.passed is True


def test_assessment_to_dict_is_strict_json(policy):
    y_true, y_pred, sensitive = _dataset(7, 300, 3)

    assessment = assess_fairness(
        y_true, y_pred.astype(float), sensitive, threshold=0.5, policy=policy
    )

    data = json.loads(json.dumps(assessment.to_dict(), allow_nan=False))
    assert data["min_group_size"] == policy.fairness.min_group_size
    intersection = data["features"][-1]
    assert intersection["sensitive_features"] == ["gender", "region", "age_band"]
    assert sum(group["count"] for group in intersection["groups"]) == 300


def test_disparities_at_threshold_equal_fairlearn(dataset):
    y_true, _, sensitive = dataset
    y_score = np.random.default_rng(8).random(len(y_true))
    codes, _ = group_codes(sensitive)
    thresholds = [0.1, 0.5, 0.77]

    result = disparities_at_threshold(y_true, y_score, codes, thresholds)

    for index, threshold in enumerate(thresholds):
        y_pred = (y_score >= threshold).astype(int)
        expected_dpd = flm.demographic_parity_difference(
            y_true, y_pred, sensitive_features=sensitive
        )
        expected_eod = flm.equalized_odds_difference(
            y_true, y_pred, sensitive_features=sensitive
        )
        assert result.demographic_parity_difference[index] == pytest.approx(
            expected_dpd, abs=1e-9
        )
        assert result.equalized_odds_difference[index] == pytest.approx(
            expected_eod, abs=1e-9
        )


def test_single_threshold_equals_group_metrics(dataset):
    y_true, _, sensitive = dataset
    y_score = np.random.default_rng(10).random(len(y_true))
    codes, _ = group_codes(sensitive)

    result = disparities_at_threshold(y_true, y_score, codes, 0.5)

    y_pred = (y_score >= 0.5).astype(int)
    expected = equalized_odds_difference(y_true, y_pred, sensitive_features=sensitive)
    assert result.thresholds == [0.5]
    assert result.equalized_odds_difference == [pytest.approx(expected, abs=1e-12)]


def test_sweep_excludes_small_groups_like_group_metrics():
    y_true, y_pred, sensitive = _dataset(9, 400, 3)
    y_score = np.random.default_rng(9).random(400)
    codes, _ = group_codes(sensitive)

    sweep = ThresholdSweep(y_true, y_score, codes, min_group_size=20)
    result = sweep.at(0.4)

    y_pred = (y_score >= 0.4).astype(int)
    expected = demographic_parity_difference(
        y_true, y_pred, sensitive_features=sensitive, min_group_size=20
    )
    assert result.demographic_parity_difference == [pytest.approx(expected, abs=1e-12)]


@pytest.mark.parametrize(
    ("y_true", "y_pred", "sensitive", "message"),
    [
        pytest.param([0, 1], [0, 2], ["a", "b"], "only 0 and 1", id="non-binary"),
        pytest.param([0, 1, 1], [0, 1], ["a", "b"], "differ in length", id="length"),
        pytest.param([0, 1], [0, 1], ["a", None], "missing values", id="missing-group"),
        pytest.param(
            [0, 1], [0, 1], np.ones((2, 2)), "DataFrame", id="two-dimensional"
        ),
    ],
)
def test_bad_input_is_rejected(y_true, y_pred, sensitive, message):
    with pytest.raises(InvalidInputError, match=message):
        group_metrics(y_true, y_pred, sensitive)


def test_assess_fairness_needs_a_data_frame(policy):
    with pytest.raises(InvalidInputError, match="DataFrame"):
        assess_fairness(
            [0, 1], [0.2, 0.8], pd.Series(["a", "b"]), threshold=0.5, policy=policy
        )


def test_sweep_rejects_negative_codes():
    with pytest.raises(InvalidInputError, match="non-negative"):
        ThresholdSweep([0, 1], [0.2, 0.8], [0, -1])
