"""Performance metrics against scikit-learn and a hand-computed case."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    brier_score_loss,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

from governance.assessment.performance import assess_performance
from governance.errors import InvalidInputError
from governance.policy import Policy, load_policy


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy()


@pytest.fixture(params=[0, 1, 2], ids=["seed0", "seed1", "seed2"])
def scored(request) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(request.param)
    y_true = rng.integers(0, 2, 3000)
    y_score = np.clip(0.3 * y_true + rng.normal(0.35, 0.2, 3000), 0, 1)
    return y_true, y_score


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.8])
def test_metrics_equal_sklearn(scored, policy, threshold):
    y_true, y_score = scored
    y_pred = (y_score >= threshold).astype(int)

    result = assess_performance(y_true, y_score, threshold=threshold, policy=policy)

    assert result.auc == pytest.approx(roc_auc_score(y_true, y_score), abs=1e-12)
    assert result.precision == pytest.approx(precision_score(y_true, y_pred), abs=1e-12)
    assert result.recall == pytest.approx(recall_score(y_true, y_pred), abs=1e-12)
    assert result.f1 == pytest.approx(f1_score(y_true, y_pred), abs=1e-12)
    assert result.brier_score == pytest.approx(
        brier_score_loss(y_true, y_score), abs=1e-12
    )
    matrix = result.confusion_matrix
    assert [matrix.tn, matrix.fp, matrix.fn, matrix.tp] == confusion_matrix(
        y_true, y_pred
    ).ravel().tolist()


def test_reliability_curve_equals_sklearn(scored, policy):
    y_true, y_score = scored

    curve = assess_performance(
        y_true, y_score, threshold=0.5, policy=policy
    ).reliability_curve

    observed, predicted = calibration_curve(
        y_true, y_score, n_bins=10, strategy="uniform"
    )
    np.testing.assert_allclose(curve.fraction_of_positives, observed, atol=1e-12)
    np.testing.assert_allclose(curve.mean_predicted, predicted, atol=1e-12)


def test_hand_computed_case(policy):
    y_true = [0, 0, 1, 1]
    y_score = [0.1, 0.6, 0.4, 0.8]  # at 0.5: one of each cell of the confusion matrix

    result = assess_performance(y_true, y_score, threshold=0.5, policy=policy)

    assert (result.precision, result.recall, result.f1) == (0.5, 0.5, 0.5)
    assert result.auc == pytest.approx(0.75)  # 3 of 4 positive-negative pairs ordered
    assert result.brier_score == pytest.approx((0.01 + 0.36 + 0.36 + 0.04) / 4)
    passed = {standard.name: standard.passed for standard in result.standards}
    assert passed == {
        "auc": result.auc >= policy.performance.min_auc,
        "precision": False,
        "recall": False,
        "brier_score": result.brier_score <= policy.performance.max_brier_score,
    }
    assert result.passed is False


def test_score_equal_to_threshold_is_positive(policy):
    result = assess_performance(
        [0, 1, 1], [0.2, 0.5, 0.9], threshold=0.5, policy=policy
    )

    assert result.confusion_matrix.tp == 2


def test_no_predicted_positive_gives_zero_precision(policy):
    result = assess_performance(
        [0, 1, 1], [0.1, 0.2, 0.3], threshold=0.9, policy=policy
    )

    assert (result.precision, result.recall, result.f1) == (0.0, 0.0, 0.0)


def test_standards_carry_policy_thresholds(scored, policy):
    y_true, y_score = scored

    result = assess_performance(y_true, y_score, threshold=0.5, policy=policy)

    thresholds = {standard.name: standard.threshold for standard in result.standards}
    assert thresholds == {
        "auc": policy.performance.min_auc,
        "precision": policy.performance.min_precision,
        "recall": policy.performance.min_recall,
        "brier_score": policy.performance.max_brier_score,
    }


def test_to_dict_is_json(scored, policy):
    y_true, y_score = scored
    result = assess_performance(y_true, y_score, threshold=0.5, policy=policy)

    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))

    assert data["auc"] == result.auc
    assert data["metrics"] == {
        "auc": result.auc,
        "precision": result.precision,
        "recall": result.recall,
        "f1": result.f1,
        "brier_score": result.brier_score,
    }
    assert data["confusion_matrix"]["tp"] == result.confusion_matrix.tp
    assert [s["name"] for s in data["standards"]] == [
        "auc",
        "precision",
        "recall",
        "brier_score",
    ]


@pytest.mark.parametrize(
    ("y_true", "y_score", "threshold", "message"),
    [
        pytest.param([0, 1, 2], [0.1, 0.2, 0.3], 0.5, "only 0 and 1", id="non-binary"),
        pytest.param(["no", "yes"], [0.1, 0.2], 0.5, "only 0 and 1", id="strings"),
        pytest.param(
            [1, 1, 1], [0.1, 0.2, 0.3], 0.5, "only class 1", id="single-class"
        ),
        pytest.param([0, 1, 1], [0.1, 0.2], 0.5, "differ in length", id="length"),
        pytest.param([0, 1], [0.1, np.nan], 0.5, "missing values", id="nan-score"),
        pytest.param([0, np.nan], [0.1, 0.2], 0.5, "only 0 and 1", id="nan-label"),
        pytest.param([0, 1], [0.1, 1.7], 0.5, r"\[0, 1\]", id="not-probability"),
        pytest.param([0, 1], [0.1, 0.7], 1.5, "threshold", id="bad-threshold"),
        pytest.param([], [], 0.5, "empty", id="empty"),
        pytest.param(
            [[0, 1]], [[0.1, 0.2]], 0.5, "one-dimensional", id="two-dimensional"
        ),
    ],
)
def test_bad_input_is_rejected(policy, y_true, y_score, threshold, message):
    with pytest.raises(InvalidInputError, match=message):
        assess_performance(y_true, y_score, threshold=threshold, policy=policy)
