"""Performance of a binary classifier, checked against the policy's standards.

A score at or above the decision threshold is a positive prediction
(``y_score >= threshold``). Precision is 0 when nothing is predicted positive and
recall is 0 when there is no actual positive, the values scikit-learn returns
(without its warning). AUC and the reliability curve come from scikit-learn,
imported on first use because it is slow to import.

The standards follow the framework's "Model Performance Standards": AUC, precision
and recall pass at or above their minimum, and the Brier score passes at or below
the policy's ceiling.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from governance.assessment.standards import Standard
from governance.errors import InvalidInputError
from governance.policy import Policy

logger = logging.getLogger(__name__)

RELIABILITY_BINS = 10
"""Equal-width score bins of the reliability curve (a display choice, not policy)."""

ArrayLike: TypeAlias = np.ndarray | pd.Series | list[float]


@dataclass(frozen=True)
class ConfusionMatrix:
    """Counts of a binary confusion matrix at one threshold."""

    tn: int
    fp: int
    fn: int
    tp: int


@dataclass(frozen=True)
class ReliabilityCurve:
    """Observed share of positives against mean score, per non-empty score bin."""

    mean_predicted: list[float]
    fraction_of_positives: list[float]


@dataclass(frozen=True)
class PerformanceAssessment:
    """Performance metrics at a threshold and the standards they were held to."""

    threshold: float
    rows: int
    auc: float
    precision: float
    recall: float
    f1: float
    brier_score: float
    confusion_matrix: ConfusionMatrix
    reliability_curve: ReliabilityCurve
    standards: list[Standard]

    @property
    def passed(self) -> bool:
        """Whether every standard passed."""
        return all(standard.passed for standard in self.standards)

    @property
    def metrics(self) -> dict[str, float]:
        """The scalar metrics by name."""
        names = ("auc", "precision", "recall", "f1", "brier_score")
        return {name: getattr(self, name) for name in names}

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form, with the scalar metrics also under ``metrics``."""
        return {**asdict(self), "metrics": self.metrics, "passed": self.passed}


def validate_binary_target(values: ArrayLike, *, name: str = "y_true") -> np.ndarray:
    """Check that ``values`` are binary labels and return them as 0/1 integers.

    Parameters
    ----------
    values
        Labels: 0 and 1, or False and True.
    name
        What the labels are, for error messages.

    Returns
    -------
    numpy.ndarray
        The labels as ``int8``.

    Raises
    ------
    InvalidInputError
        When the labels are empty, not one-dimensional, missing, or hold a value
        other than 0 and 1.
    """
    array = _one_dimensional(values, name)
    if array.dtype == bool:
        return array.astype(np.int8)
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == object):
        raise InvalidInputError(
            f"{name} must hold only 0 and 1, got {array.dtype} values; encode the "
            "positive class as 1 and the negative class as 0."
        )
    is_zero, is_one = array == 0, array == 1
    if not np.all(is_zero | is_one):
        others = pd.unique(array[~(is_zero | is_one)])[:5].tolist()
        raise InvalidInputError(
            f"{name} must hold only 0 and 1, found {others}; encode the positive "
            "class as 1, the negative class as 0, and drop rows without a label."
        )
    return is_one.astype(np.int8)


def validate_scores(values: ArrayLike, *, name: str = "y_score") -> np.ndarray:
    """Check that ``values`` are probabilities and return them as floats.

    Parameters
    ----------
    values
        Predicted probabilities of the positive class.
    name
        What the scores are, for error messages.

    Returns
    -------
    numpy.ndarray
        The scores as ``float64``.

    Raises
    ------
    InvalidInputError
        When the scores are empty, not numeric, missing, or outside [0, 1].
    """
    array = _one_dimensional(values, name)
    try:
        scores = array.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name} must be numeric: {exc}.") from exc
    missing = int(np.count_nonzero(np.isnan(scores)))
    if missing:
        raise InvalidInputError(
            f"{name} holds {missing} missing values; score every row before "
            "assessing, or drop the unscored rows from both labels and scores."
        )
    if scores.min() < 0 or scores.max() > 1:
        raise InvalidInputError(
            f"{name} must be probabilities in [0, 1], found values from "
            f"{scores.min():g} to {scores.max():g}; pass predict_proba's "
            "positive-class column, not a decision function."
        )
    return scores


def validate_threshold(threshold: float) -> float:
    """Check that a decision threshold lies in [0, 1] and return it as a float."""
    if not 0.0 <= float(threshold) <= 1.0:
        raise InvalidInputError(
            f"The decision threshold must lie in [0, 1], got {threshold}."
        )
    return float(threshold)


def check_same_length(**arrays: np.ndarray | pd.Series | pd.DataFrame) -> None:
    """Raise `InvalidInputError` unless every array has the same number of rows."""
    lengths = {name: len(array) for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name}={length}" for name, length in lengths.items())
        raise InvalidInputError(
            f"Inputs differ in length ({shown}); pass one row per scored example."
        )


def confusion_counts(y_true: np.ndarray, y_pred: np.ndarray) -> ConfusionMatrix:
    """Confusion matrix of 0/1 labels and 0/1 predictions.

    Parameters
    ----------
    y_true, y_pred
        Validated 0/1 arrays of the same length.

    Returns
    -------
    ConfusionMatrix
        The four counts.
    """
    tn, fp, fn, tp = np.bincount(2 * y_true.astype(np.intp) + y_pred, minlength=4)
    return ConfusionMatrix(tn=int(tn), fp=int(fp), fn=int(fn), tp=int(tp))


def assess_performance(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    threshold: float,
    policy: Policy,
) -> PerformanceAssessment:
    """Measure a binary classifier and check it against the policy.

    Parameters
    ----------
    y_true
        Actual labels, 0 and 1; both classes must occur.
    y_score
        Predicted probabilities of class 1.
    threshold
        Decision threshold: a score at or above it is a positive prediction.
    policy
        The governance policy; reads ``policy.performance``.

    Returns
    -------
    PerformanceAssessment
        AUC, precision, recall, F1, Brier score, confusion matrix and reliability
        curve, with one `Standard` per policy threshold.

    Raises
    ------
    InvalidInputError
        When labels are not binary or hold one class only, scores are missing or
        outside [0, 1], the threshold is outside [0, 1], or lengths differ.
    """
    labels = validate_binary_target(y_true)
    scores = validate_scores(y_score)
    check_same_length(y_true=labels, y_score=scores)
    _check_both_classes(labels)
    threshold = validate_threshold(threshold)

    confusion = confusion_counts(labels, (scores >= threshold).astype(np.int8))
    precision, recall, f1 = _rates(confusion)
    auc = _auc(labels, scores)
    brier = float(np.mean((scores - labels) ** 2))
    assessment = PerformanceAssessment(
        threshold=threshold,
        rows=len(labels),
        auc=auc,
        precision=precision,
        recall=recall,
        f1=f1,
        brier_score=brier,
        confusion_matrix=confusion,
        reliability_curve=_reliability(labels, scores),
        standards=_standards(auc, precision, recall, brier, policy),
    )
    logger.info(
        "Performance assessed on %s rows at threshold %s: AUC %.4f, passed %s",
        len(labels),
        threshold,
        auc,
        assessment.passed,
    )
    return assessment


def _one_dimensional(values: ArrayLike, name: str) -> np.ndarray:
    array = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    if array.ndim != 1:
        raise InvalidInputError(
            f"{name} must be one-dimensional, got shape {array.shape}."
        )
    if len(array) == 0:
        raise InvalidInputError(f"{name} is empty; assess on at least one row.")
    if array.dtype == object and pd.isna(array).any():
        raise InvalidInputError(
            f"{name} holds missing values; drop those rows or fill them first."
        )
    return array


def _check_both_classes(labels: np.ndarray) -> None:
    positives = int(labels.sum())
    if positives in (0, len(labels)):
        only = "1" if positives else "0"
        raise InvalidInputError(
            f"y_true holds only class {only}, so AUC, precision and recall are "
            "undefined; assess on data that holds both classes."
        )


def _rates(confusion: ConfusionMatrix) -> tuple[float, float, float]:
    tp, fp, fn = confusion.tp, confusion.fp, confusion.fn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    return precision, recall, f1


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    # scikit-learn's metrics take over a second to import: load them on first use.
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores))


def _reliability(labels: np.ndarray, scores: np.ndarray) -> ReliabilityCurve:
    from sklearn.calibration import calibration_curve

    observed, predicted = calibration_curve(
        labels, scores, n_bins=RELIABILITY_BINS, strategy="uniform"
    )
    return ReliabilityCurve(
        mean_predicted=predicted.tolist(), fraction_of_positives=observed.tolist()
    )


def _standards(
    auc: float, precision: float, recall: float, brier: float, policy: Policy
) -> list[Standard]:
    limits = policy.performance
    return [
        _at_least("auc", "AUC", auc, limits.min_auc),
        _at_least("precision", "Precision", precision, limits.min_precision),
        _at_least("recall", "Recall", recall, limits.min_recall),
        _at_most("brier_score", "Brier score", brier, limits.max_brier_score),
    ]


def _at_least(name: str, label: str, value: float, minimum: float) -> Standard:
    passed = value >= minimum
    verdict = "meets" if passed else "is below"
    detail = f"{label} {value:.3f} {verdict} the policy minimum {minimum:g}."
    return Standard(name, value, minimum, passed, detail)


def _at_most(name: str, label: str, value: float, maximum: float) -> Standard:
    passed = value <= maximum
    verdict = "is within" if passed else "exceeds"
    detail = f"{label} {value:.3f} {verdict} the policy maximum {maximum:g}."
    return Standard(name, value, maximum, passed, detail)
