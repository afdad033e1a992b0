"""Group metrics and disparities of a binary classifier across sensitive features.

Definitions follow fairlearn's ``fairlearn.metrics``:

- selection rate: share of a group predicted positive;
- true positive rate: share of a group's actual positives predicted positive. A
  group with no actual positive gets 0, as in fairlearn (which takes it from
  scikit-learn's normalised confusion matrix); the false positive rate of a group
  with no actual negative is 0 likewise;
- demographic parity difference: largest minus smallest selection rate between
  groups ("between_groups");
- equalized odds difference: the larger of the true positive rate difference and
  the false positive rate difference between groups ("worst_case").

With several sensitive features, groups are their intersections that occur in the
data, like fairlearn's ``MetricFrame`` with several sensitive features.

Small groups
    A group with fewer than ``min_group_size`` rows (``policy.fairness``) is
    flagged ``is_too_small``: its rates are too noisy to judge. By default
    (``exclude_small=True``) flagged groups are left out of the differences and
    named in the result; with ``exclude_small=False`` every group is compared, which
    is what fairlearn computes. A difference over fewer than two groups is
    undefined: it is ``nan`` and its standard does not pass.

Counting uses one integer code per group and ``numpy.bincount`` over the rows,
instead of a pandas group-by, which is what makes it fast.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from governance.assessment.performance import (
    ArrayLike,
    check_same_length,
    validate_binary_target,
    validate_scores,
    validate_threshold,
)
from governance.assessment.standards import Standard
from governance.errors import InvalidInputError
from governance.policy import Policy

logger = logging.getLogger(__name__)

RATE_COLUMNS = ("selection_rate", "true_positive_rate", "false_positive_rate")
SensitiveFeatures: TypeAlias = pd.Series | pd.DataFrame | np.ndarray


@dataclass(frozen=True)
class Disparity:
    """A difference in one rate between groups, and the groups behind it.

    ``rate`` is the rate whose gap gives ``value`` (for equalized odds, the larger
    of the two); ``lowest_group`` and ``highest_group`` have the smallest and the
    largest value of that rate among the compared groups.
    """

    metric: str
    value: float
    rate: str
    lowest_group: str | None
    highest_group: str | None
    compared_groups: list[str]
    excluded_groups: list[str]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form; an undefined value becomes ``None``."""
        return {**asdict(self), "value": None if math.isnan(self.value) else self.value}


@dataclass(frozen=True)
class FeatureFairness:
    """Fairness evidence for one sensitive feature or one intersection of them."""

    sensitive_features: list[str]
    groups: list[dict[str, Any]]
    demographic_parity: Disparity
    equalized_odds: Disparity
    standards: list[Standard]
    indicators: list[Standard]

    @property
    def name(self) -> str:
        """The feature, or the features of an intersection joined by ``&``."""
        return " & ".join(self.sensitive_features)

    @property
    def passed(self) -> bool:
        """Whether the bias standard (demographic parity) is not failed.

        The framework's bias standard is the demographic parity difference; a
        comparison that cannot be made (too few large groups) does not fail it.
        The equalized odds difference is an indicator: compared with its bound,
        shown, and fed to the bias risk factor, but not a pass/fail standard.
        """
        return all(standard.passed is not False for standard in self.standards)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {
            "name": self.name,
            "sensitive_features": self.sensitive_features,
            "groups": self.groups,
            "demographic_parity": self.demographic_parity.to_dict(),
            "equalized_odds": self.equalized_odds.to_dict(),
            "standards": [standard.to_dict() for standard in self.standards],
            "indicators": [indicator.to_dict() for indicator in self.indicators],
            "passed": self.passed,
        }


@dataclass(frozen=True)
class FairnessAssessment:
    """Fairness evidence per sensitive feature and for their intersection."""

    threshold: float
    min_group_size: int
    features: list[FeatureFairness]

    @property
    def passed(self) -> bool:
        """Whether every feature and intersection passed."""
        return all(feature.passed for feature in self.features)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {
            "threshold": self.threshold,
            "min_group_size": self.min_group_size,
            "features": [feature.to_dict() for feature in self.features],
            "passed": self.passed,
        }


@dataclass(frozen=True)
class ThresholdDisparities:
    """Disparities at each of several decision thresholds."""

    thresholds: list[float]
    demographic_parity_difference: list[float]
    equalized_odds_difference: list[float]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form; undefined values become ``None``."""
        return {
            name: [None if math.isnan(value) else value for value in values]
            for name, values in asdict(self).items()
        }


def group_codes(sensitive_features: SensitiveFeatures) -> tuple[np.ndarray, pd.Index]:
    """One integer code per row for its group (intersection of the features).

    Parameters
    ----------
    sensitive_features
        One feature (a Series or 1-D array) or several (a DataFrame).

    Returns
    -------
    codes : numpy.ndarray
        For each row, the position of its group in ``groups``.
    groups : pandas.Index
        The groups that occur, sorted by value; a MultiIndex for several features.

    Raises
    ------
    InvalidInputError
        When a sensitive feature has missing values, or there are none.
    """
    frame = _as_frame(sensitive_features)
    key, size = np.zeros(len(frame), dtype=np.int64), 1
    for name in frame.columns:
        codes, values = pd.factorize(frame[name], sort=True)
        if np.any(codes < 0):
            raise InvalidInputError(
                f"Sensitive feature {name!r} has missing values; fill them with an "
                "explicit group such as 'unknown' so those rows are assessed too."
            )
        key, size = key * len(values) + codes, size * len(values)
        if size > len(frame):  # keep the mixed-radix key small: renumber groups
            _, key = np.unique(key, return_inverse=True)
            size = int(key.max()) + 1

    present = np.flatnonzero(np.bincount(key, minlength=size))
    renumber = np.zeros(size, dtype=np.int64)
    renumber[present] = np.arange(len(present))
    codes = renumber[key]
    return codes, _group_index(frame, codes, len(present))


def group_metrics(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    sensitive_features: SensitiveFeatures,
    *,
    min_group_size: int = 0,
) -> pd.DataFrame:
    """Count, positives and rates of a binary classifier in each group.

    Parameters
    ----------
    y_true
        Actual labels, 0 and 1.
    y_pred
        Predicted labels, 0 and 1.
    sensitive_features
        One feature (Series or 1-D array) or several (DataFrame, groups are the
        intersections).
    min_group_size
        Groups with fewer rows are flagged ``is_too_small``
        (``policy.fairness.min_group_size``); 0 flags none.

    Returns
    -------
    pandas.DataFrame
        One row per group, indexed like fairlearn's ``MetricFrame.by_group``, with
        columns ``count``, ``positives``, ``selection_rate``,
        ``true_positive_rate``, ``false_positive_rate`` and ``is_too_small``.
    """
    labels = validate_binary_target(y_true, name="y_true")
    predictions = validate_binary_target(y_pred, name="y_pred")
    check_same_length(
        y_true=labels, y_pred=predictions, sensitive_features=sensitive_features
    )
    codes, groups = group_codes(sensitive_features)

    cells = 4 * codes + 2 * labels + predictions
    tn, fp, fn, tp = np.bincount(cells, minlength=4 * len(groups)).reshape(-1, 4).T
    return _table(tn, fp, fn, tp, groups, min_group_size)


def demographic_parity_disparity(
    table: pd.DataFrame, *, exclude_small: bool = True
) -> Disparity:
    """Gap in selection rate between the groups of a `group_metrics` table.

    Parameters
    ----------
    table
        Output of `group_metrics`.
    exclude_small
        Leave groups flagged ``is_too_small`` out of the comparison.

    Returns
    -------
    Disparity
        The demographic parity difference and the groups that set it.
    """
    return _disparity(
        table, "demographic_parity_difference", ["selection_rate"], exclude_small
    )


def equalized_odds_disparity(
    table: pd.DataFrame, *, exclude_small: bool = True
) -> Disparity:
    """Larger of the true and false positive rate gaps of a `group_metrics` table.

    Parameters
    ----------
    table
        Output of `group_metrics`.
    exclude_small
        Leave groups flagged ``is_too_small`` out of the comparison.

    Returns
    -------
    Disparity
        The equalized odds difference, the rate that sets it, and its groups.
    """
    rates = ["true_positive_rate", "false_positive_rate"]
    return _disparity(table, "equalized_odds_difference", rates, exclude_small)


def demographic_parity_difference(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sensitive_features: SensitiveFeatures,
    min_group_size: int = 0,
    exclude_small: bool = True,
) -> float:
    """Largest minus smallest selection rate between groups.

    Equal to ``fairlearn.metrics.demographic_parity_difference`` when no group is
    excluded as too small.

    Parameters
    ----------
    y_true, y_pred
        Actual and predicted labels, 0 and 1.
    sensitive_features
        One feature or several (groups are the intersections).
    min_group_size
        Groups with fewer rows are too small to judge; 0 flags none.
    exclude_small
        Leave too-small groups out of the difference.

    Returns
    -------
    float
        The difference, ``nan`` when fewer than two groups are compared.
    """
    table = group_metrics(
        y_true, y_pred, sensitive_features, min_group_size=min_group_size
    )
    return demographic_parity_disparity(table, exclude_small=exclude_small).value


def equalized_odds_difference(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sensitive_features: SensitiveFeatures,
    min_group_size: int = 0,
    exclude_small: bool = True,
) -> float:
    """Larger of the true positive rate and false positive rate differences.

    Equal to ``fairlearn.metrics.equalized_odds_difference`` (``agg="worst_case"``)
    when no group is excluded as too small.

    Parameters
    ----------
    y_true, y_pred
        Actual and predicted labels, 0 and 1.
    sensitive_features
        One feature or several (groups are the intersections).
    min_group_size
        Groups with fewer rows are too small to judge; 0 flags none.
    exclude_small
        Leave too-small groups out of the difference.

    Returns
    -------
    float
        The difference, ``nan`` when fewer than two groups are compared.
    """
    table = group_metrics(
        y_true, y_pred, sensitive_features, min_group_size=min_group_size
    )
    return equalized_odds_disparity(table, exclude_small=exclude_small).value


def assess_fairness(
    y_true: ArrayLike,
    y_score: ArrayLike,
    sensitive: pd.DataFrame,
    *,
    threshold: float,
    policy: Policy,
) -> FairnessAssessment:
    """Assess disparities per sensitive feature and for their intersection.

    Parameters
    ----------
    y_true
        Actual labels, 0 and 1.
    y_score
        Predicted probabilities of class 1; ``y_score >= threshold`` is a positive
        prediction.
    sensitive
        One column per sensitive feature.
    threshold
        Decision threshold in [0, 1].
    policy
        The governance policy; reads ``policy.fairness``. A difference passes when
        strictly below its maximum (the framework's "< 0.1"); groups smaller than
        ``min_group_size`` are flagged and left out of the differences.

    Returns
    -------
    FairnessAssessment
        For each feature, then for the intersection of all of them when there are
        several: group table, disparities and standards.
    """
    if not isinstance(sensitive, pd.DataFrame) or sensitive.shape[1] == 0:
        raise InvalidInputError(
            "Pass the sensitive features as a DataFrame with one column per feature."
        )
    threshold = validate_threshold(threshold)
    scores = validate_scores(y_score)
    predictions = (scores >= threshold).astype(np.int8)

    selections = [[name] for name in sensitive.columns]
    if sensitive.shape[1] > 1:
        selections.append(list(sensitive.columns))
    features = [
        _feature_fairness(y_true, predictions, sensitive[names], policy)
        for names in selections
    ]
    assessment = FairnessAssessment(
        threshold=threshold,
        min_group_size=policy.fairness.min_group_size,
        features=features,
    )
    logger.info(
        "Fairness assessed over %s at threshold %s: passed %s",
        ", ".join(feature.name for feature in features),
        threshold,
        assessment.passed,
    )
    return assessment


class ThresholdSweep:
    """Disparities at any decision threshold, from scores sorted once.

    Rows are sorted by (group, label, score) once; the number of rows at or above
    a threshold in each (group, label) block is then a binary search, so a
    threshold costs O(groups x log n) instead of a pass over the rows.

    Parameters
    ----------
    y_true
        Actual labels, 0 and 1.
    y_score
        Predicted probabilities of class 1.
    group_codes
        Group of each row as integers from 0 (see `group_codes`).
    min_group_size
        Groups with fewer rows are left out of the differences; 0 keeps all.
    """

    def __init__(
        self,
        y_true: ArrayLike,
        y_score: ArrayLike,
        group_codes: ArrayLike,
        *,
        min_group_size: int = 0,
    ) -> None:
        labels = validate_binary_target(y_true)
        scores = validate_scores(y_score)
        codes = np.asarray(group_codes)
        check_same_length(y_true=labels, y_score=scores, group_codes=codes)
        if not np.issubdtype(codes.dtype, np.integer) or codes.min() < 0:
            raise InvalidInputError(
                "group_codes must be non-negative integers; build them with "
                "group_codes()."
            )

        block = 2 * codes.astype(np.int64) + labels
        order = np.lexsort((scores, block))
        self._scores = scores[order]
        sizes = np.bincount(block, minlength=2 * (int(codes.max()) + 1))
        self._ends = np.cumsum(sizes)
        self._starts = self._ends - sizes
        self._negatives, self._positives = sizes[0::2], sizes[1::2]
        self._is_compared = self._negatives + self._positives >= max(min_group_size, 1)

    def at(
        self, thresholds: float | Sequence[float] | np.ndarray
    ) -> ThresholdDisparities:
        """Demographic parity and equalized odds differences at each threshold.

        Parameters
        ----------
        thresholds
            One decision threshold or several.

        Returns
        -------
        ThresholdDisparities
            One value of each difference per threshold; ``nan`` where fewer than
            two groups are compared.
        """
        points = np.atleast_1d(np.asarray(thresholds, dtype=np.float64))
        selected = np.stack(
            [
                end - start - np.searchsorted(self._scores[start:end], points)
                for start, end in zip(self._starts, self._ends, strict=True)
            ]
        )
        false_positives, true_positives = selected[0::2], selected[1::2]
        negatives, positives = self._negatives[:, None], self._positives[:, None]

        keep = self._is_compared
        selection = _safe_ratio(false_positives + true_positives, negatives + positives)
        tpr = _safe_ratio(true_positives, positives)
        fpr = _safe_ratio(false_positives, negatives)
        dpd = _spread(selection[keep])
        eod = np.maximum(_spread(tpr[keep]), _spread(fpr[keep]))
        return ThresholdDisparities(
            thresholds=points.tolist(),
            demographic_parity_difference=dpd.tolist(),
            equalized_odds_difference=eod.tolist(),
        )


def disparities_at_threshold(
    y_true: ArrayLike,
    y_score: ArrayLike,
    group_codes: ArrayLike,
    threshold: float | Sequence[float] | np.ndarray,
    *,
    min_group_size: int = 0,
) -> ThresholdDisparities:
    """Demographic parity and equalized odds differences at one or more thresholds.

    For a threshold slider, build a `ThresholdSweep` once and call its ``at``.

    Parameters
    ----------
    y_true
        Actual labels, 0 and 1.
    y_score
        Predicted probabilities of class 1.
    group_codes
        Group of each row as integers from 0 (see `group_codes`).
    threshold
        One decision threshold or several.
    min_group_size
        Groups with fewer rows are left out of the differences; 0 keeps all.

    Returns
    -------
    ThresholdDisparities
        One value of each difference per threshold.
    """
    sweep = ThresholdSweep(y_true, y_score, group_codes, min_group_size=min_group_size)
    return sweep.at(threshold)


def _as_frame(sensitive_features: SensitiveFeatures) -> pd.DataFrame:
    if isinstance(sensitive_features, pd.DataFrame):
        frame = sensitive_features
    elif isinstance(sensitive_features, pd.Series):
        frame = sensitive_features.to_frame(
            name=sensitive_features.name or "sensitive_feature_0"
        )
    else:
        array = np.asarray(sensitive_features)
        if array.ndim != 1:
            raise InvalidInputError(
                "Pass several sensitive features as a DataFrame with named columns."
            )
        frame = pd.DataFrame({"sensitive_feature_0": array})
    if frame.shape[1] == 0:
        raise InvalidInputError("No sensitive feature given; pass at least one column.")
    return frame.reset_index(drop=True)


def _group_index(frame: pd.DataFrame, codes: np.ndarray, count: int) -> pd.Index:
    first = np.full(count, len(codes), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(codes)))
    rows = frame.iloc[first]
    if frame.shape[1] == 1:
        return pd.Index(rows.iloc[:, 0].to_numpy(), name=frame.columns[0])
    return pd.MultiIndex.from_frame(rows)


def _table(
    tn: np.ndarray,
    fp: np.ndarray,
    fn: np.ndarray,
    tp: np.ndarray,
    groups: pd.Index,
    min_group_size: int,
) -> pd.DataFrame:
    count, positives = tn + fp + fn + tp, fn + tp
    return pd.DataFrame(
        {
            "count": count,
            "positives": positives,
            "selection_rate": (tp + fp) / count,
            "true_positive_rate": _safe_ratio(tp, positives),
            "false_positive_rate": _safe_ratio(fp, tn + fp),
            "is_too_small": count < min_group_size,
        },
        index=groups,
    )


def _safe_ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator``, 0 where the denominator is 0 (as fairlearn)."""
    denominator = np.broadcast_to(denominator, np.shape(numerator))
    out = np.zeros(np.shape(numerator), dtype=np.float64)
    return np.divide(numerator, denominator, out=out, where=denominator > 0)


def _spread(rates: np.ndarray) -> np.ndarray:
    if len(rates) < 2:
        return np.full(rates.shape[1:], np.nan)
    return rates.max(axis=0) - rates.min(axis=0)


def _label(group: Any) -> str:
    return ", ".join(map(str, group)) if isinstance(group, tuple) else str(group)


def _disparity(
    table: pd.DataFrame, metric: str, rates: list[str], exclude_small: bool
) -> Disparity:
    is_excluded = table["is_too_small"].to_numpy() & exclude_small
    compared = table[~is_excluded]
    labels = [_label(group) for group in table.index]
    kept = [label for label, out in zip(labels, is_excluded, strict=True) if not out]
    dropped = [label for label, out in zip(labels, is_excluded, strict=True) if out]
    if len(compared) < 2:
        return Disparity(metric, math.nan, rates[0], None, None, kept, dropped)

    spreads = [float(compared[rate].max() - compared[rate].min()) for rate in rates]
    widest = rates[int(np.argmax(spreads))]
    values = compared[widest].to_numpy()
    return Disparity(
        metric=metric,
        value=max(spreads),
        rate=widest,
        lowest_group=kept[int(np.argmin(values))],
        highest_group=kept[int(np.argmax(values))],
        compared_groups=kept,
        excluded_groups=dropped,
    )


def _feature_fairness(
    y_true: ArrayLike, predictions: np.ndarray, sensitive: pd.DataFrame, policy: Policy
) -> FeatureFairness:
    limits = policy.fairness
    table = group_metrics(
        y_true, predictions, sensitive, min_group_size=limits.min_group_size
    )
    parity = demographic_parity_disparity(table)
    odds = equalized_odds_disparity(table)
    name = " & ".join(str(column) for column in sensitive.columns)
    return FeatureFairness(
        sensitive_features=[str(column) for column in sensitive.columns],
        groups=_group_records(table),
        demographic_parity=parity,
        equalized_odds=odds,
        standards=[_below(parity, limits.max_demographic_parity_difference, name)],
        indicators=[_below(odds, limits.max_equalized_odds_difference, name)],
    )


def _below(disparity: Disparity, maximum: float, feature: str) -> Standard:
    label = disparity.metric.replace("_", " ").capitalize()
    metric = f"{disparity.metric} ({feature})"
    if math.isnan(disparity.value):
        detail = (
            f"{label} not assessable: fewer than two groups are large enough to "
            "compare; collect more data for the small groups."
        )
        return Standard(metric, None, maximum, None, detail)

    passed = disparity.value < maximum
    verdict = "is below" if passed else "is not below"
    detail = (
        f"{label} {disparity.value:.3f} {verdict} the policy maximum {maximum:g}; "
        f"widest {disparity.rate.replace('_', ' ')} gap between "
        f"{disparity.lowest_group} and {disparity.highest_group}."
    )
    return Standard(metric, disparity.value, maximum, passed, detail)


def _group_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    columns = {name: table[name].tolist() for name in table.columns}
    return [
        {
            "group": _label(group),
            **{name: values[row] for name, values in columns.items()},
        }
        for row, group in enumerate(table.index)
    ]
