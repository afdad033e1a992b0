"""What the review pages need besides charts: comparisons, masking, search, intervals.

Everything here reads stored evidence and stored predictions; nothing loads a
model. The fairness part recomputes group rates and disparities at any decision
threshold from the stored test predictions, with the same definitions as
`governance.assessment.fairness`, so at the registered threshold it reproduces
the stored evidence exactly.

Confidence intervals of group rates are Wilson score intervals (Wilson, 1927,
"Probable inference, the law of succession, and statistical inference", JASA
22:209-212): unlike the normal approximation they stay inside [0, 1] and keep a
sensible width for rates near 0 or 1 and for small groups.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from governance.assessment.fairness import (
    RATE_COLUMNS,
    Disparity,
    ThresholdDisparities,
    ThresholdSweep,
    demographic_parity_disparity,
    equalized_odds_disparity,
    group_codes,
    group_metrics,
)
from governance.errors import InvalidInputError, NotFoundError

logger = logging.getLogger(__name__)

CONFIDENCE = 0.95
"""Coverage of the intervals drawn around group rates."""

MASK = "•••"
"""What a masked PII value is shown as."""

FACTOR_TITLES = {
    "data_quality": "Data quality",
    "performance": "Performance",
    "bias": "Bias",
    "stability": "Stability",
    "security": "Security",
}
RATE_TITLES = {
    "selection_rate": "Selection rate",
    "true_positive_rate": "True positive rate",
    "false_positive_rate": "False positive rate",
}

Table = TypeVar("Table", pd.DataFrame, pd.Series)


# -- versions ---------------------------------------------------------------------


def latest_by_version(history: Sequence[Any]) -> dict[str, Any]:
    """The newest stored assessment of each version, from `assessment_history`.

    Parameters
    ----------
    history
        StoredEvidence objects, oldest first.

    Returns
    -------
    dict
        Version -> its newest StoredEvidence, in order of first assessment.
    """
    latest: dict[str, Any] = {}
    for stored in history:
        latest[stored.version] = stored
    return latest


def compare_standards(
    left: Mapping[str, Any], right: Mapping[str, Any], *, labels: tuple[str, str]
) -> pd.DataFrame:
    """Every standard of two evidence documents side by side.

    Parameters
    ----------
    left, right
        Evidence documents (``StoredEvidence.evidence``).
    labels
        Column prefixes for the two versions, e.g. ``("v2", "v3")``.

    Returns
    -------
    pandas.DataFrame
        One row per standard (in the order of ``left``, then those only in
        ``right``): ``Standard``, ``Threshold``, then value and result per version;
        a standard one version lacks shows ``—``.
    """
    by_name = [
        {item["name"]: item for item in evidence.get("standards", [])}
        for evidence in (left, right)
    ]
    names = list(by_name[0]) + [name for name in by_name[1] if name not in by_name[0]]
    rows = []
    for name in names:
        items = [standards.get(name) for standards in by_name]
        known = next(item for item in items if item is not None)
        row: dict[str, str] = {
            "Standard": name,
            "Threshold": str(known["threshold"]),
        }
        for label, item in zip(labels, items, strict=True):
            row[f"{label} value"] = "—" if item is None else shown(item["value"])
            row[f"{label} result"] = "—" if item is None else verdict(item["passed"])
        rows.append(row)
    return pd.DataFrame(rows)


def compare_metrics(
    left: Mapping[str, Any], right: Mapping[str, Any], *, labels: tuple[str, str]
) -> pd.DataFrame:
    """Test-set metrics, worst disparities and risk of two versions side by side.

    Parameters
    ----------
    left, right
        Evidence documents.
    labels
        Column names for the two versions.

    Returns
    -------
    pandas.DataFrame
        ``Measure``, one column per version and ``Change`` (right minus left).
    """
    measures = [_measures(left), _measures(right)]
    names = list(measures[0]) + [m for m in measures[1] if m not in measures[0]]
    values = [[found.get(name, math.nan) for name in names] for found in measures]
    return pd.DataFrame(
        {
            "Measure": names,
            labels[0]: values[0],
            labels[1]: values[1],
            "Change": np.subtract(values[1], values[0]),
        }
    )


def _measures(evidence: Mapping[str, Any]) -> dict[str, float]:
    metrics = (evidence.get("performance") or {}).get("metrics") or {}
    found = {name: float(value) for name, value in metrics.items()}
    for feature in (evidence.get("fairness") or {}).get("features", []):
        for key in ("demographic_parity", "equalized_odds"):
            value = feature[key]["value"]
            found[f"{key}_difference ({feature['name']})"] = (
                math.nan if value is None else float(value)
            )
    risk = evidence.get("risk") or {}
    if "score" in risk:
        found["risk_score"] = float(risk["score"])
    return found


def risk_factor_rows(risk: Mapping[str, Any]) -> pd.DataFrame:
    """The five risk factors of an evidence document's ``risk`` section as rows.

    Returns
    -------
    pandas.DataFrame
        ``Factor``, ``Score``, ``What drove it`` and ``Assessed`` per factor.
    """
    factors, drivers = risk.get("factors") or {}, risk.get("drivers") or {}
    unassessed = set(risk.get("unassessed") or [])
    return pd.DataFrame(
        {
            "Factor": [FACTOR_TITLES.get(name, name) for name in factors],
            "Score": [float(score) for score in factors.values()],
            "What drove it": [drivers.get(name, "") for name in factors],
            "Assessed": [name not in unassessed for name in factors],
        }
    )


def shown(value: object) -> str:
    """A standard's value as text: floats to four decimals."""
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def below_maximum(value: float | None, maximum: float) -> bool | None:
    """Whether a difference is strictly below its maximum; None when undefined."""
    if value is None or math.isnan(value):
        return None
    return value < maximum


def difference_verdict(
    value: float | None, maximum: float, *, is_standard: bool
) -> str:
    """How a difference compares with its maximum, in words.

    A standard passes or fails; an indicator (the equalized odds difference) is
    only below or above its bound, since it decides nothing by itself.
    """
    passed = below_maximum(value, maximum)
    if passed is None:
        return "not assessable"
    if is_standard:
        return verdict(passed)
    return "below" if passed else "above"


def shown_difference(value: float | None) -> str:
    """A difference to four decimals, or ``not assessable`` when undefined."""
    if value is None or math.isnan(value):
        return "not assessable"
    return f"{value:.4f}"


def verdict(passed: bool | None) -> str:
    """``pass``, ``fail`` or ``not assessable``."""
    return "not assessable" if passed is None else ("pass" if passed else "fail")


# -- explanations -----------------------------------------------------------------


def mask_pii(table: Table, pii_columns: Sequence[str]) -> Table:
    """A copy of ``table`` with every PII value replaced by `MASK`.

    Parameters
    ----------
    table
        Feature values: a DataFrame (PII columns are masked) or one row as a
        Series indexed by feature name (PII entries are masked).
    pii_columns
        The version's ``data_spec["pii_columns"]``.

    Returns
    -------
    pandas.DataFrame or pandas.Series
        Same shape; PII values masked, everything else unchanged.
    """
    pii = {str(name) for name in pii_columns}
    masked = table.copy()
    labels = masked.columns if isinstance(masked, pd.DataFrame) else masked.index
    hidden = [label for label in labels if str(label) in pii]
    if not hidden:
        return masked
    if isinstance(masked, pd.DataFrame):
        for label in hidden:
            masked[label] = pd.Series(MASK, index=masked.index, dtype=object)
    else:
        masked = masked.astype(object)
        masked[hidden] = MASK
    return masked


def search_rows(frame: pd.DataFrame, text: str, *, limit: int) -> list[str]:
    """Row ids whose id or any value contains ``text``, ignoring case.

    Parameters
    ----------
    frame
        Feature values indexed by row id; mask PII first (`mask_pii`) so a search
        cannot reveal it.
    text
        What to look for; empty matches every row.
    limit
        Largest number of ids returned.

    Returns
    -------
    list of str
        Matching row ids, in the frame's order.
    """
    if limit < 1:
        raise InvalidInputError(f"limit must be at least 1, got {limit}.")
    ids = frame.index.astype(str)
    needle = text.strip()
    if not needle:
        return list(ids[:limit])

    hits = ids.str.contains(needle, case=False, regex=False)
    for column in frame.columns:
        cells = frame[column].astype(str)
        hits |= cells.str.contains(needle, case=False, regex=False).to_numpy()
    return list(ids[hits][:limit])


def model_output(
    base_value: float, contributions: Sequence[float] | np.ndarray, output_space: str
) -> tuple[float, float]:
    """The model's output for one row, rebuilt from its SHAP values.

    Parameters
    ----------
    base_value
        The explanation's base value.
    contributions
        The row's SHAP values.
    output_space
        ``"log_odds"`` or ``"probability"``.

    Returns
    -------
    raw : float
        Base value plus the sum of the contributions, in ``output_space``.
    probability : float
        The predicted probability of the positive class.
    """
    raw = float(base_value + np.sum(contributions))
    if output_space == "log_odds":
        return raw, 1.0 / (1.0 + math.exp(-raw))
    if output_space == "probability":
        return raw, raw
    raise InvalidInputError(
        f"Unknown output space {output_space!r}; expected log_odds or probability."
    )


# -- fairness ---------------------------------------------------------------------


def wilson_interval(
    successes: np.ndarray | Sequence[float],
    trials: np.ndarray | Sequence[float],
    *,
    confidence: float = CONFIDENCE,
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion, element-wise.

    Parameters
    ----------
    successes, trials
        Counts; ``0 <= successes <= trials``.
    confidence
        Coverage of the interval, in (0, 1).

    Returns
    -------
    low, high : numpy.ndarray
        Bounds of the interval; ``nan`` where ``trials`` is 0.
    """
    hits = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    if not 0 < confidence < 1:
        raise InvalidInputError(f"confidence must be in (0, 1), got {confidence}.")
    if np.any(hits < 0) or np.any(hits > n):
        raise InvalidInputError("successes must lie between 0 and trials.")

    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = hits / n
        denominator = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denominator
        half = z / denominator * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    empty = n == 0
    return np.where(empty, np.nan, centre - half), np.where(
        empty, np.nan, centre + half
    )


def group_table(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """A stored feature's ``groups`` records as a table indexed by group label."""
    if not records:
        raise InvalidInputError("The fairness evidence lists no groups.")
    return pd.DataFrame(list(records)).set_index("group")


def with_intervals(
    table: pd.DataFrame, *, confidence: float = CONFIDENCE
) -> pd.DataFrame:
    """A group table with Wilson bounds ``<rate>_low`` and ``<rate>_high`` added.

    Parameters
    ----------
    table
        Columns ``count``, ``positives`` and the three rates (a `group_metrics`
        table or `group_table`).
    confidence
        Coverage of the intervals.

    Returns
    -------
    pandas.DataFrame
        A copy with two columns per rate. The selection rate is out of the group's
        rows, the true positive rate out of its actual positives, the false
        positive rate out of its actual negatives.
    """
    count = table["count"].to_numpy(dtype=np.float64)
    positives = table["positives"].to_numpy(dtype=np.float64)
    trials = {
        "selection_rate": count,
        "true_positive_rate": positives,
        "false_positive_rate": count - positives,
    }
    out = table.copy()
    for rate in RATE_COLUMNS:
        n = trials[rate]
        hits = np.rint(table[rate].to_numpy(dtype=np.float64) * n)
        out[f"{rate}_low"], out[f"{rate}_high"] = wilson_interval(
            hits, n, confidence=confidence
        )
    return out


def group_rows(groups: pd.DataFrame) -> pd.DataFrame:
    """A group table (with intervals) as the fairness page lists it.

    Returns
    -------
    pandas.DataFrame
        ``Group``, ``Rows``, ``Actual positives``, each rate with its interval
        as text, and ``Too small to judge``.
    """
    table = {
        "Group": [str(group) for group in groups.index],
        "Rows": groups["count"].to_numpy(),
        "Actual positives": groups["positives"].to_numpy(),
    }
    for rate, title in RATE_TITLES.items():
        table[title] = groups[rate].round(4).to_numpy()
        if f"{rate}_low" in groups.columns:
            table[f"{title} 95 % interval"] = [
                "—" if math.isnan(low) else f"{low:.3f} to {high:.3f}"
                for low, high in zip(
                    groups[f"{rate}_low"], groups[f"{rate}_high"], strict=True
                )
            ]
    table["Too small to judge"] = groups["is_too_small"].to_numpy(dtype=bool)
    return pd.DataFrame(table)


def find_feature(evidence: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The fairness evidence of one sensitive feature or intersection, by name."""
    for feature in (evidence.get("fairness") or {}).get("features", []):
        if feature["name"] == name:
            return dict(feature)
    raise NotFoundError(
        f"The evidence has no fairness result for {name!r}; choose one of the "
        "assessed sensitive features."
    )


def fairness_summary(evidence: Mapping[str, Any]) -> pd.DataFrame:
    """One row per assessed sensitive feature (and intersection) of the evidence.

    Returns
    -------
    pandas.DataFrame
        ``Sensitive feature``, the demographic parity difference with its
        maximum and result, the equalized odds difference (indicator), and the
        groups behind the widest selection rate gap. Sorted as assessed.
    """
    rows = []
    for feature in (evidence.get("fairness") or {}).get("features", []):
        standard, parity = feature["standards"][0], feature["demographic_parity"]
        rows.append(
            {
                "Sensitive feature": feature["name"],
                "Demographic parity difference": shown_difference(standard["value"]),
                "Maximum": standard["threshold"],
                "Result": verdict(standard["passed"]),
                "Equalized odds difference (indicator)": shown_difference(
                    feature["equalized_odds"]["value"]
                ),
                "Widest gap between": (
                    f"{parity['lowest_group']} and {parity['highest_group']}"
                    if parity["lowest_group"] is not None
                    else "—"
                ),
            }
        )
    return pd.DataFrame(rows)


def widest_disparity(evidence: Mapping[str, Any]) -> str:
    """Name of the feature with the largest demographic parity difference.

    Raises
    ------
    NotFoundError
        When the evidence holds no fairness result.
    """
    features = (evidence.get("fairness") or {}).get("features", [])
    if not features:
        raise NotFoundError(
            "The evidence holds no fairness result; register the version with "
            "sensitive features and assess it again."
        )
    values = [feature["demographic_parity"]["value"] for feature in features]
    widest = max(
        range(len(features)),
        key=lambda index: -1.0 if values[index] is None else values[index],
    )
    return str(features[widest]["name"])


@dataclass(frozen=True)
class ThresholdView:
    """Group rates and disparities at one decision threshold."""

    threshold: float
    groups: pd.DataFrame
    demographic_parity: Disparity
    equalized_odds: Disparity


class FairnessExplorer:
    """Fairness of stored predictions at any decision threshold.

    Built once per (assessment, feature); `disparities` then costs a binary
    search per group (`ThresholdSweep`), and `at` one pass over the rows.

    Parameters
    ----------
    predictions
        Stored test predictions (`governance.evidence.load_predictions`): columns
        ``y_true``, ``y_score`` and the sensitive features.
    sensitive_features
        One feature, or several for their intersection.
    min_group_size
        ``policy.fairness.min_group_size``: smaller groups are flagged and left
        out of the differences, as in the assessment.
    """

    def __init__(
        self,
        predictions: pd.DataFrame,
        sensitive_features: Sequence[str],
        *,
        min_group_size: int,
    ) -> None:
        needed = ["y_true", "y_score", *sensitive_features]
        absent = [name for name in needed if name not in predictions.columns]
        if absent or not sensitive_features:
            raise InvalidInputError(
                f"The stored predictions lack {', '.join(absent) or 'a sensitive feature'}; "
                "assess the version again to store them."
            )
        if predictions["y_true"].isna().any():
            raise InvalidInputError(
                "Some stored test predictions have no outcome; fairness needs the "
                "outcome of every test row. Check the test data's target column."
            )
        # The assessment compares groups by their text form; so does the explorer.
        self.sensitive = predictions[list(sensitive_features)].astype(str)
        self.y_true = predictions["y_true"].to_numpy(dtype=np.int64)
        self.y_score = predictions["y_score"].to_numpy(dtype=np.float64)
        self.min_group_size = min_group_size
        self.codes, _ = group_codes(self.sensitive)
        self.sweep = ThresholdSweep(
            self.y_true, self.y_score, self.codes, min_group_size=min_group_size
        )

    def disparities(self, thresholds: float | Sequence[float]) -> ThresholdDisparities:
        """Demographic parity and equalized odds differences at each threshold."""
        return self.sweep.at(thresholds)

    def at(self, threshold: float) -> ThresholdView:
        """Group rates (with Wilson intervals) and disparities at ``threshold``."""
        predicted = (self.y_score >= threshold).astype(np.int8)
        table = group_metrics(
            self.y_true,
            predicted,
            self.sensitive,
            min_group_size=self.min_group_size,
        )
        table.index = [_label(group) for group in table.index]
        return ThresholdView(
            threshold=threshold,
            groups=with_intervals(table),
            demographic_parity=demographic_parity_disparity(table),
            equalized_odds=equalized_odds_disparity(table),
        )


def _label(group: Any) -> str:
    return ", ".join(map(str, group)) if isinstance(group, tuple) else str(group)
