"""Stability of a binary classifier's performance over time and over resamples.

The framework's stability risk looks at "performance variance" and "model
degradation", and its retraining triggers include "Performance degradation (> 10%
drop)". This module measures AUC, precision and recall three ways:

Calendar-month windows
    When timestamps are given, the rows are grouped by calendar month in UTC
    (timestamps without a timezone are taken as UTC) and each month is measured on its own. A month with
    fewer than ``min_window_rows`` rows, or with a single class, is skipped and
    listed with the reason.

Bootstrap resamples
    ``n_bootstrap`` resamples of the rows, drawn with replacement by numpy's
    generator from ``seed``. Each resample is a vector of row multiplicities, so all
    of them are measured at once: AUC from the Mann-Whitney form of the rank
    statistic, ``(sum over positives of the count of negatives scored strictly
    lower, plus half the ties) / (positives x negatives)``, which is what
    ``roc_auc_score`` computes; precision and recall from weighted confusion
    counts. A resample holding one class has no AUC and is left out of the AUC
    statistics (and counted). Precision is 0 when nothing is predicted positive and
    recall is 0 without positives, as in `governance.assessment.performance`.

Spread
    Per metric: mean, standard deviation (``ddof=1``) and the 5th and 95th
    percentiles (numpy's linear interpolation), over the windows and over the
    resamples. ``relative_spread`` is ``(max - min) / mean`` over the windows when
    at least two were measured, else ``(p95 - p05) / mean`` over the resamples.
    That of AUC is ``metric_spread``, the input of
    `governance.assessment.risk.stability_risk`: AUC does not depend on the
    threshold, and precision and recall in a month of a few hundred rows move by
    tens of percent from sampling alone.

Degradation
    Against a baseline (for example the version's own test metrics), the relative
    drop ``(baseline - observed) / baseline`` of each metric, on all rows and on the
    latest measured window. It is rounded to 12 decimals, so a drop equal to the
    policy's fraction in decimal is not pushed over by floating-point noise, and is
    flagged when it reaches ``policy.monitoring.performance_drop_fraction``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from governance.assessment.performance import (
    ArrayLike,
    check_same_length,
    validate_binary_target,
    validate_scores,
    validate_threshold,
)
from governance.errors import InvalidInputError
from governance.policy import Policy, reaches

logger = logging.getLogger(__name__)

METRICS = ("auc", "precision", "recall")
"""The metrics whose stability is measured."""

ALL_ROWS = "all"
"""Scope of a degradation measured on every row rather than one window."""

_DROP_DIGITS = 12
_CHUNK_CELLS = 4_000_000
# Resamples are measured in chunks of about this many (resample, row) cells, which
# bounds memory at a few tens of MB whatever the number of rows.


@dataclass(frozen=True)
class MetricSpread:
    """How one metric varies over windows or resamples."""

    metric: str
    samples: int
    mean: float | None
    std: float | None
    p05: float | None
    p95: float | None


@dataclass(frozen=True)
class WindowMetrics:
    """Performance in one calendar month."""

    window: str
    rows: int
    positives: int
    auc: float
    precision: float
    recall: float


@dataclass(frozen=True)
class SkippedWindow:
    """A calendar month that was not measured, and why."""

    window: str
    rows: int
    positives: int
    reason: str


@dataclass(frozen=True)
class Degradation:
    """Relative drop of one metric against its baseline."""

    metric: str
    scope: str
    baseline: float
    observed: float
    relative_drop: float
    threshold: float
    is_degraded: bool


@dataclass(frozen=True)
class StabilityResult:
    """Performance spread over windows and resamples, and degradation."""

    threshold: float
    rows: int
    metrics: dict[str, float]
    n_bootstrap: int
    seed: int
    bootstrap: list[MetricSpread]
    undefined_bootstrap_auc: int
    min_window_rows: int
    windows: list[WindowMetrics]
    skipped_windows: list[SkippedWindow]
    window_spread: list[MetricSpread]
    relative_spread: dict[str, float | None]
    spread_source: str
    degradation: list[Degradation]

    @property
    def is_degraded(self) -> bool:
        """Whether any metric dropped as far as the policy trigger (inclusive)."""
        return any(item.is_degraded for item in self.degradation)

    @property
    def metric_spread(self) -> float:
        """Relative spread of AUC, for the stability risk (0 when undefined)."""
        return self.relative_spread["auc"] or 0.0

    @property
    def degradation_fraction(self) -> float | None:
        """Largest relative drop, or ``None`` without a baseline."""
        drops = [item.relative_drop for item in self.degradation]
        return max(drops) if drops else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form of the result."""
        return {
            **asdict(self),
            "is_degraded": self.is_degraded,
            "metric_spread": self.metric_spread,
            "degradation_fraction": self.degradation_fraction,
        }


def assess_stability(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    threshold: float,
    timestamps: pd.Series | None,
    baseline: Mapping[str, float] | None,
    policy: Policy,
    n_bootstrap: int = 200,
    seed: int = 0,
    min_window_rows: int | None = None,
) -> StabilityResult:
    """Measure how stable AUC, precision and recall are.

    Parameters
    ----------
    y_true
        Actual labels, 0 and 1; both classes must occur.
    y_score
        Predicted probabilities of class 1.
    threshold
        Decision threshold: a score at or above it is a positive prediction.
    timestamps
        When each row was scored, one per row, or ``None`` to skip the windows.
    baseline
        Metrics to measure degradation against (keys among ``auc``,
        ``precision``, ``recall``), or ``None`` to skip degradation.
    policy
        The governance policy; reads ``monitoring.performance_drop_fraction`` and,
        by default, ``monitoring.min_window_rows``.
    n_bootstrap
        Number of bootstrap resamples, at least 2.
    seed
        Seed of the resamples.
    min_window_rows
        Fewest rows a month needs to be measured; the policy's smallest judged
        window (``monitoring.min_window_rows``) when omitted.

    Returns
    -------
    StabilityResult
        Per-window table, spreads, and degradation.

    Raises
    ------
    InvalidInputError
        When labels, scores or threshold are invalid, lengths differ, a class is
        missing, timestamps are missing or unparseable, the baseline names an
        unknown metric or holds a value outside (0, 1], or ``n_bootstrap < 2``.
    """
    labels = validate_binary_target(y_true)
    scores = validate_scores(y_score)
    check_same_length(y_true=labels, y_score=scores)
    threshold = validate_threshold(threshold)
    _check_both_classes(labels)
    if n_bootstrap < 2:
        raise InvalidInputError(
            f"n_bootstrap must be at least 2 to measure a spread, got {n_bootstrap}."
        )
    checked_baseline = _validate_baseline(baseline)
    min_rows = (
        policy.monitoring.min_window_rows
        if min_window_rows is None
        else min_window_rows
    )

    overall = _single(labels, scores, threshold)
    resampled = bootstrap_metrics(
        labels, scores, threshold=threshold, n_bootstrap=n_bootstrap, seed=seed
    )
    windows: list[WindowMetrics] = []
    skipped: list[SkippedWindow] = []
    if timestamps is not None:
        months = _months(timestamps, len(labels))
        windows, skipped = _windows(labels, scores, months, threshold, min_rows)

    window_spread = [
        _spread(metric, [getattr(window, metric) for window in windows])
        for metric in METRICS
    ]
    bootstrap = [_spread(metric, resampled[metric]) for metric in METRICS]
    relative, source = _relative_spread(windows, bootstrap)
    result = StabilityResult(
        threshold=threshold,
        rows=len(labels),
        metrics=overall,
        n_bootstrap=n_bootstrap,
        seed=seed,
        bootstrap=bootstrap,
        undefined_bootstrap_auc=int(np.isnan(resampled["auc"]).sum()),
        min_window_rows=min_rows,
        windows=windows,
        skipped_windows=skipped,
        window_spread=window_spread,
        relative_spread=relative,
        spread_source=source,
        degradation=_degradations(checked_baseline, overall, windows, policy),
    )
    logger.info(
        "Stability assessed on %s rows, %s windows (%s skipped): AUC bootstrap "
        "std %s, degraded %s",
        len(labels),
        len(windows),
        len(skipped),
        bootstrap[0].std,
        result.is_degraded,
    )
    return result


def bootstrap_metrics(
    y_true: np.ndarray,
    y_score: np.ndarray,
    *,
    threshold: float,
    n_bootstrap: int,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """AUC, precision and recall of each bootstrap resample.

    Parameters
    ----------
    y_true
        Validated 0/1 labels.
    y_score
        Validated scores, as long as ``y_true``.
    threshold
        Decision threshold.
    n_bootstrap
        Number of resamples.
    seed
        Seed of the resamples; resample ``b`` is row ``b`` of `bootstrap_indices`
        with the same seed.

    Returns
    -------
    dict of str to numpy.ndarray
        One array of ``n_bootstrap`` values per metric; AUC is NaN for a resample
        holding one class.
    """
    kernel = _Kernel(y_true, y_score, threshold)
    parts = [
        kernel.measure(_multiplicities(chunk))
        for chunk in _draws(len(y_true), n_bootstrap, seed)
    ]
    return {
        metric: np.concatenate([part[metric] for part in parts]) for metric in METRICS
    }


def bootstrap_indices(rows: int, *, n_bootstrap: int, seed: int = 0) -> np.ndarray:
    """Row positions of every bootstrap resample, one resample per row.

    Parameters
    ----------
    rows
        Number of rows resampled.
    n_bootstrap
        Number of resamples.
    seed
        Seed of the resamples.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_bootstrap, rows)``; the resamples `bootstrap_metrics` measures.
    """
    return np.vstack(list(_draws(rows, n_bootstrap, seed)))


def relative_drop(baseline: float, observed: float) -> float:
    """``(baseline - observed) / baseline``, rounded to 12 decimals.

    Parameters
    ----------
    baseline
        The reference value, positive.
    observed
        The value measured now.

    Returns
    -------
    float
        The relative drop; negative for a gain.
    """
    return round((baseline - observed) / baseline, _DROP_DIGITS)


def degradation_of(
    metric: str, *, baseline: float, observed: float, scope: str, policy: Policy
) -> Degradation:
    """Hold one metric's relative drop to the policy's retraining trigger.

    Parameters
    ----------
    metric
        The metric's name.
    baseline
        Its baseline value, positive.
    observed
        Its value now.
    scope
        Where it was observed: ``"all"`` or a window such as ``"2024-03"``.
    policy
        The governance policy; reads ``monitoring.performance_drop_fraction``.

    Returns
    -------
    Degradation
        Flagged when the drop reaches the fraction (``governance.policy.reaches``).
    """
    limit = policy.monitoring.performance_drop_fraction
    drop = relative_drop(baseline, observed)
    return Degradation(
        metric=metric,
        scope=scope,
        baseline=float(baseline),
        observed=float(observed),
        relative_drop=drop,
        threshold=limit,
        is_degraded=reaches(drop, limit),
    )


class _Kernel:
    """Measures many weightings of the same rows at once.

    Rows are sorted by score and grouped by distinct score; a weighting (a row
    multiplicity per row) then reduces to weighted counts per group.
    """

    def __init__(self, labels: np.ndarray, scores: np.ndarray, threshold: float):
        self.order = np.argsort(scores, kind="stable")
        sorted_scores = scores[self.order]
        self.group_starts = np.flatnonzero(
            np.r_[True, sorted_scores[1:] != sorted_scores[:-1]]
        )
        self.is_positive = labels[self.order].astype(np.float64)
        predicted = (sorted_scores >= threshold).astype(np.float64)
        self.true_positive = self.is_positive * predicted
        self.false_positive = (1.0 - self.is_positive) * predicted

    def measure(self, weights: np.ndarray) -> dict[str, np.ndarray]:
        sorted_weights = weights[:, self.order]
        positives = np.add.reduceat(
            sorted_weights * self.is_positive, self.group_starts, axis=1
        )
        negatives = (
            np.add.reduceat(sorted_weights, self.group_starts, axis=1) - positives
        )
        negatives_below = np.cumsum(negatives, axis=1) - negatives
        pairs = positives.sum(axis=1) * negatives.sum(axis=1)
        wins = (positives * (negatives_below + 0.5 * negatives)).sum(axis=1)

        true_positive = sorted_weights @ self.true_positive
        predicted_positive = true_positive + sorted_weights @ self.false_positive
        actual_positive = positives.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return {
                "auc": np.where(pairs > 0, wins / pairs, np.nan),
                "precision": np.where(
                    predicted_positive > 0, true_positive / predicted_positive, 0.0
                ),
                "recall": np.where(
                    actual_positive > 0, true_positive / actual_positive, 0.0
                ),
            }


def _draws(rows: int, n_bootstrap: int, seed: int) -> Iterator[np.ndarray]:
    # One generator draws the chunks in turn, which yields the same numbers as one
    # draw of the whole (n_bootstrap, rows) matrix.
    rng = np.random.default_rng(seed)
    per_chunk = max(1, _CHUNK_CELLS // max(rows, 1))
    for start in range(0, n_bootstrap, per_chunk):
        size = min(per_chunk, n_bootstrap - start)
        yield rng.integers(0, rows, size=(size, rows))


def _multiplicities(indices: np.ndarray) -> np.ndarray:
    resamples, rows = indices.shape
    flat = (np.arange(resamples)[:, None] * rows + indices).ravel()
    counts = np.bincount(flat, minlength=resamples * rows)
    return counts.reshape(resamples, rows).astype(np.float64)


def _single(
    labels: np.ndarray, scores: np.ndarray, threshold: float
) -> dict[str, float]:
    measured = _Kernel(labels, scores, threshold).measure(np.ones((1, len(labels))))
    return {metric: float(measured[metric][0]) for metric in METRICS}


def _months(timestamps: pd.Series, rows: int) -> pd.Series:
    """Calendar month of each row as ``year * 100 + month``."""
    if len(timestamps) != rows:
        raise InvalidInputError(
            f"timestamps has {len(timestamps)} values for {rows} rows; pass one "
            "timestamp per scored row."
        )
    try:
        moments = pd.to_datetime(
            pd.Series(timestamps).reset_index(drop=True), utc=True, format="ISO8601"
        )
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"timestamps cannot be read as dates ({exc}); pass datetimes or ISO "
            "8601 strings."
        ) from exc
    if moments.isna().any():
        raise InvalidInputError(
            f"timestamps holds {int(moments.isna().sum())} missing values; give "
            "every row the time it was scored."
        )
    moments = moments.dt.tz_convert(None)
    return moments.dt.year * 100 + moments.dt.month


def _windows(
    labels: np.ndarray,
    scores: np.ndarray,
    months: pd.Series,
    threshold: float,
    min_rows: int,
) -> tuple[list[WindowMetrics], list[SkippedWindow]]:
    measured, skipped = [], []
    month_of_row = months.to_numpy()
    for month in np.unique(month_of_row):
        in_month = month_of_row == month
        window = f"{month // 100:04d}-{month % 100:02d}"
        rows, positives = int(in_month.sum()), int(labels[in_month].sum())
        reason = _skip_reason(rows, positives, min_rows)
        if reason:
            skipped.append(SkippedWindow(window, rows, positives, reason))
            continue
        values = _single(labels[in_month], scores[in_month], threshold)
        measured.append(WindowMetrics(window, rows, positives, **values))
    return measured, skipped


def _skip_reason(rows: int, positives: int, min_rows: int) -> str:
    if rows < min_rows:
        return f"fewer than {min_rows} rows"
    if positives in (0, rows):
        return f"only class {1 if positives else 0}"
    return ""


def _spread(metric: str, values: list[float] | np.ndarray) -> MetricSpread:
    array = np.asarray(values, dtype=np.float64)
    array = array[~np.isnan(array)]
    if array.size == 0:
        return MetricSpread(metric, 0, None, None, None, None)
    p05, p95 = np.percentile(array, [5, 95])
    std = float(array.std(ddof=1)) if array.size > 1 else None
    return MetricSpread(
        metric, int(array.size), float(array.mean()), std, float(p05), float(p95)
    )


def _relative_spread(
    windows: list[WindowMetrics], bootstrap: list[MetricSpread]
) -> tuple[dict[str, float | None], str]:
    if len(windows) >= 2:
        spread = {}
        for metric in METRICS:
            values = np.array([getattr(window, metric) for window in windows])
            mean = values.mean()
            spread[metric] = (
                float((values.max() - values.min()) / mean) if mean > 0 else None
            )
        return spread, "windows"
    return {
        item.metric: (item.p95 - item.p05) / item.mean
        if item.mean and item.p05 is not None and item.p95 is not None
        else None
        for item in bootstrap
    }, "bootstrap"


def _degradations(
    baseline: dict[str, float],
    overall: dict[str, float],
    windows: list[WindowMetrics],
    policy: Policy,
) -> list[Degradation]:
    found = [
        degradation_of(
            metric,
            baseline=value,
            observed=overall[metric],
            scope=ALL_ROWS,
            policy=policy,
        )
        for metric, value in baseline.items()
    ]
    if windows:
        latest = windows[-1]
        found += [
            degradation_of(
                metric,
                baseline=value,
                observed=getattr(latest, metric),
                scope=latest.window,
                policy=policy,
            )
            for metric, value in baseline.items()
        ]
    return found


def _validate_baseline(baseline: Mapping[str, float] | None) -> dict[str, float]:
    if baseline is None:
        return {}
    unknown = sorted(set(baseline) - set(METRICS))
    if unknown:
        raise InvalidInputError(
            f"The baseline names unknown metrics {unknown}; use {', '.join(METRICS)}."
        )
    checked = {}
    for metric in METRICS:
        if metric not in baseline:
            continue
        value = float(baseline[metric])
        if not (math.isfinite(value) and 0.0 < value <= 1.0):
            raise InvalidInputError(
                f"The baseline {metric} must lie in (0, 1] to measure a relative "
                f"drop, got {baseline[metric]!r}."
            )
        checked[metric] = value
    return checked


def _check_both_classes(labels: np.ndarray) -> None:
    positives = int(labels.sum())
    if positives in (0, len(labels)):
        raise InvalidInputError(
            f"y_true holds only class {1 if positives else 0}, so AUC, precision "
            "and recall are undefined; assess on data that holds both classes."
        )
