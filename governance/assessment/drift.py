"""Data drift between a reference sample and a current sample, measured by PSI.

The Population Stability Index of one feature is

    PSI = sum_i (current_i - reference_i) * ln(current_i / reference_i)

where ``reference_i`` and ``current_i`` are the shares of each sample in bin ``i``.

Binning
    Numeric features are cut at the reference's quantiles (``bins`` equal-frequency
    bins, numpy's default linear interpolation), with repeated edges merged. The
    outer edges are open, so current values below or above the reference's range
    fall in the first or last bin. Each bin holds values ``edge_left <= x <
    edge_right``. Categorical features (object, string, category and bool dtypes)
    get one bin per category seen in either sample, so a category unseen in the
    reference counts as drift. In both cases missing values form a bin of their own.

Empty bins
    A share of zero is replaced by ``PSI_EPSILON`` (0.0001) before the logarithm,
    the value evidently uses for samples under 10,000 rows. Unlike evidently, the
    floor does not shrink for larger samples: reference-quantile bins each hold
    about ``1 / bins`` of the reference, so a zero share only occurs in the
    missing-value bin, for an unseen category, or when the current sample left a
    bin entirely, and a fixed floor keeps those cases comparable across sizes.

Reference profiles
    Binning the reference (sorting each numeric column) is most of the work. A
    `ReferenceProfile` keeps the edges and reference counts, so monitoring a new
    current sample against the same reference only counts the current sample. Its
    ``to_dict`` form is JSON and can be stored with the evidence.

Flags
    ``drift_flags`` reads ``policy.drift``: ``"retrain"`` when PSI reaches
    ``psi_retrain`` (the framework's "PSI > 0.25", read inclusively as every policy
    threshold is: ``governance.policy.reaches``), ``"warn"`` when it reaches
    ``psi_warn``, ``"ok"`` otherwise.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any, Literal, TypeAlias, TypeVar

import numpy as np
import pandas as pd

from governance.errors import InvalidInputError
from governance.policy import Policy, reaches

logger = logging.getLogger(__name__)

PSI_EPSILON = 1e-4
"""Share substituted for an empty bin before the logarithm."""

_MAX_EDGES_FOR_SCAN = 48
# Counting ``current < edge`` once per edge is a vectorised scan; past a few dozen
# edges one sort of the sample and a binary search per edge is cheaper.

DriftFlag: TypeAlias = Literal["ok", "warn", "retrain"]
FeatureKind: TypeAlias = Literal["numeric", "categorical"]
ArrayLike: TypeAlias = np.ndarray | pd.Series
_T = TypeVar("_T")


@dataclass(frozen=True)
class BinComparison:
    """A reference and a current sample counted in the reference's bins."""

    labels: list[str]
    reference_counts: np.ndarray
    current_counts: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        """Labels with each sample's share of rows per bin (JSON-serialisable)."""
        reference = self.reference_counts / max(int(self.reference_counts.sum()), 1)
        current = self.current_counts / max(int(self.current_counts.sum()), 1)
        return {
            "labels": list(self.labels),
            "reference_share": [float(value) for value in reference],
            "current_share": [float(value) for value in current],
        }


def _range_labels(edges: tuple[float, ...]) -> list[str]:
    bounds = ["-inf", *(f"{edge:.4g}" for edge in edges), "inf"]
    ranges = [f"[{low}, {high})" for low, high in zip(bounds, bounds[1:], strict=False)]
    return [*ranges, "missing"]


@dataclass(frozen=True)
class FeatureProfile:
    """How one feature of the reference is binned, and its counts per bin.

    Numeric bins are ``(-inf, edges[0]), [edges[0], edges[1]), ..., [edges[-1],
    inf)``; categorical bins are ``categories`` in order. The last count is the
    missing values.
    """

    kind: FeatureKind
    edges: tuple[float, ...]
    categories: tuple[Any, ...]
    counts: tuple[int, ...]

    def psi(self, current: ArrayLike, *, epsilon: float = PSI_EPSILON) -> float:
        """PSI of a current sample of this feature against the reference.

        Parameters
        ----------
        current
            The current sample of the feature, of the reference's kind.
        epsilon
            Share substituted for an empty bin before the logarithm.

        Returns
        -------
        float
            The population stability index.
        """
        comparison = self.compare(current)
        return psi_from_counts(
            comparison.reference_counts, comparison.current_counts, epsilon=epsilon
        )

    def compare(self, current: ArrayLike) -> BinComparison:
        """Counts of the reference and of a current sample in the same bins.

        Parameters
        ----------
        current
            The current sample of the feature, of the reference's kind.

        Returns
        -------
        BinComparison
            A label per bin (value ranges, categories, ``missing``, and categories
            unseen in the reference marked ``(new)``) with both samples' counts.
        """
        current = _as_series(current)
        _check_not_empty(current, "current")
        if _kind(current, "current") != self.kind:
            raise InvalidInputError(
                f"The reference is {self.kind} but the current sample is not; "
                "give both samples the same dtype."
            )
        if self.kind == "numeric":
            edges = np.asarray(self.edges, dtype=np.float64)
            current_counts = _counts_at_edges(_as_float("current", current), edges)
            return BinComparison(
                labels=_range_labels(self.edges),
                reference_counts=np.asarray(self.counts, dtype=np.int64),
                current_counts=np.asarray(current_counts, dtype=np.int64),
            )
        reference_counts, current_counts, unseen = self._categorical_counts(current)
        labels = [
            *map(str, self.categories),
            "missing",
            *(f"{value} (new)" for value in unseen),
        ]
        return BinComparison(labels, reference_counts, current_counts)

    def _categorical_counts(
        self, current: pd.Series
    ) -> tuple[np.ndarray, np.ndarray, list[Any]]:
        values, per_value, missing = _value_counts(current)
        slot = pd.Index(self.categories, dtype=object).get_indexer(values)
        is_unseen = slot < 0

        current_counts = np.zeros(len(self.counts) + int(is_unseen.sum()), np.int64)
        current_counts[slot[~is_unseen]] = per_value[~is_unseen]
        current_counts[len(self.categories)] = missing
        current_counts[len(self.counts) :] = per_value[is_unseen]
        reference_counts = np.zeros_like(current_counts)
        reference_counts[: len(self.counts)] = self.counts
        return reference_counts, current_counts, list(values[is_unseen])

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form of the profile."""
        return asdict(self)


@dataclass(frozen=True)
class ReferenceProfile:
    """Binned reference sample of several features, reusable across checks."""

    bins: int
    features: dict[str, FeatureProfile]

    def psi(
        self,
        current: pd.DataFrame,
        *,
        columns: Iterable[str] | None = None,
        epsilon: float = PSI_EPSILON,
        max_workers: int | None = None,
    ) -> dict[str, float]:
        """PSI of each profiled feature in a current data frame.

        Parameters
        ----------
        current
            The current sample; must hold every compared column.
        columns
            Columns to compare; every profiled feature by default.
        epsilon
            Share substituted for an empty bin before the logarithm.
        max_workers
            Threads that count columns in parallel; the number of CPUs by
            default, 1 for none.

        Returns
        -------
        dict[str, float]
            PSI per column, in column order.
        """
        names = list(self.features if columns is None else columns)
        _check_columns(names, self.features, current)

        def psi(name: str) -> float:
            return self.features[name].psi(current[name], epsilon=epsilon)

        return _map_columns(psi, names, max_workers)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form of the profile."""
        features = {name: feature.to_dict() for name, feature in self.features.items()}
        return {"bins": self.bins, "features": features}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReferenceProfile:
        """Rebuild a profile from its ``to_dict`` form."""
        features = {
            name: FeatureProfile(
                kind=feature["kind"],
                edges=tuple(feature["edges"]),
                categories=tuple(feature["categories"]),
                counts=tuple(feature["counts"]),
            )
            for name, feature in data["features"].items()
        }
        return cls(bins=int(data["bins"]), features=features)


@dataclass(frozen=True)
class DriftAssessment:
    """PSI per feature and what the policy makes of it."""

    psi: dict[str, float]
    flags: dict[str, DriftFlag]
    bins: int
    psi_warn: float
    psi_retrain: float

    @property
    def features_to_retrain(self) -> list[str]:
        """Features whose drift triggers retraining, most drifted first."""
        names = [name for name, flag in self.flags.items() if flag == "retrain"]
        return sorted(names, key=self.psi.__getitem__, reverse=True)

    @property
    def is_retrain_triggered(self) -> bool:
        """Whether any feature drifted past the retraining threshold."""
        return bool(self.features_to_retrain)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form of the assessment."""
        return {
            **asdict(self),
            "features_to_retrain": self.features_to_retrain,
            "is_retrain_triggered": self.is_retrain_triggered,
        }


def psi_from_counts(
    reference_counts: ArrayLike | tuple[int, ...],
    current_counts: ArrayLike | tuple[int, ...],
    *,
    epsilon: float = PSI_EPSILON,
) -> float:
    """PSI of two samples already counted into the same bins.

    Parameters
    ----------
    reference_counts, current_counts
        Counts per bin, aligned, same length. Shares are counts over each total.
    epsilon
        Share substituted for an empty bin before the logarithm.

    Returns
    -------
    float
        The population stability index, 0 when the shares are equal.
    """
    reference_share = _shares(np.asarray(reference_counts, dtype=np.float64), epsilon)
    current_share = _shares(np.asarray(current_counts, dtype=np.float64), epsilon)
    if reference_share.shape != current_share.shape:
        raise InvalidInputError(
            f"Bin counts differ in length ({len(reference_share)} reference, "
            f"{len(current_share)} current); count both samples into the same bins."
        )
    ratio = np.log(current_share / reference_share)
    return float(np.sum((current_share - reference_share) * ratio))


def psi_with_edges(
    reference: ArrayLike,
    current: ArrayLike,
    edges: ArrayLike,
    *,
    epsilon: float = PSI_EPSILON,
) -> float:
    """PSI of a numeric feature cut at given bin edges.

    Only the inner edges matter: the first and last bins are open-ended, so for
    values inside ``[edges[0], edges[-1]]`` the bins are those of
    ``numpy.histogram(values, edges)``. Missing values form their own bin.

    Parameters
    ----------
    reference, current
        The two samples of the feature, numeric.
    edges
        Strictly increasing bin edges, at least two.
    epsilon
        Share substituted for an empty bin before the logarithm.

    Returns
    -------
    float
        The population stability index.
    """
    edges = np.asarray(edges, dtype=np.float64)
    if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise InvalidInputError(
            "Bin edges must be a strictly increasing list of at least two numbers."
        )
    inner = edges[1:-1]
    reference_counts = _counts_at_edges(_as_float("reference", reference), inner)
    current_counts = _counts_at_edges(_as_float("current", current), inner)
    return psi_from_counts(reference_counts, current_counts, epsilon=epsilon)


def reference_quantile_edges(reference: ArrayLike, *, bins: int) -> np.ndarray:
    """Inner bin edges of a numeric feature: the reference's quantiles.

    Parameters
    ----------
    reference
        The reference sample, numeric; missing values are ignored.
    bins
        Number of equal-frequency bins before repeated edges are merged.

    Returns
    -------
    numpy.ndarray
        Strictly increasing inner edges (at most ``bins - 1``); empty when the
        reference holds no value.
    """
    values = _as_float("reference", _as_series(reference))
    return np.asarray(_numeric_profile(values, bins).edges, dtype=np.float64)


def profile_feature(reference: ArrayLike, *, bins: int) -> FeatureProfile:
    """Bin one reference feature: quantile edges if numeric, else its categories.

    Parameters
    ----------
    reference
        The reference sample of the feature.
    bins
        Number of reference-quantile bins for a numeric feature
        (``policy.drift.psi_bins``); repeated edges are merged.

    Returns
    -------
    FeatureProfile
        The bins and the reference's count in each.

    Raises
    ------
    InvalidInputError
        When the sample is empty or a numeric one holds infinite values.
    """
    reference = _as_series(reference)
    _check_not_empty(reference, "reference")
    if _kind(reference, "reference") == "numeric":
        return _numeric_profile(_as_float("reference", reference), bins)
    return _categorical_profile(reference)


def profile_reference(
    reference: pd.DataFrame,
    *,
    bins: int,
    columns: Iterable[str] | None = None,
    max_workers: int | None = None,
) -> ReferenceProfile:
    """Bin every feature of a reference data frame.

    Parameters
    ----------
    reference
        The reference sample, usually the training data.
    bins
        Number of reference-quantile bins for numeric features
        (``policy.drift.psi_bins``).
    columns
        Columns to profile; all columns by default.
    max_workers
        Threads that bin columns in parallel; the number of CPUs by default,
        1 for none.

    Returns
    -------
    ReferenceProfile
        Bins and reference counts per feature.
    """
    names = list(reference.columns if columns is None else columns)
    _check_columns(names, reference)

    def profile(name: str) -> FeatureProfile:
        return profile_feature(reference[name], bins=bins)

    return ReferenceProfile(
        bins=bins, features=_map_columns(profile, names, max_workers)
    )


def population_stability_index(
    reference: ArrayLike,
    current: ArrayLike,
    *,
    bins: int,
    epsilon: float = PSI_EPSILON,
) -> float:
    """PSI of one feature between a reference and a current sample.

    Numeric dtypes are cut at reference quantiles; object, string, category and
    bool dtypes are compared per category (see the module docstring).

    Parameters
    ----------
    reference, current
        The two samples of the feature.
    bins
        Number of reference-quantile bins for a numeric feature
        (``policy.drift.psi_bins``).
    epsilon
        Share substituted for an empty bin before the logarithm.

    Returns
    -------
    float
        The population stability index.

    Raises
    ------
    InvalidInputError
        When a sample is empty, the two samples are of different kinds (numeric
        and categorical), or the reference holds infinite values.
    """
    return profile_feature(reference, bins=bins).psi(current, epsilon=epsilon)


def feature_psi(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    bins: int,
    columns: Iterable[str] | None = None,
) -> dict[str, float]:
    """PSI of each feature between a reference and a current data frame.

    Parameters
    ----------
    reference, current
        The two samples; both must hold every compared column.
    bins
        Number of reference-quantile bins for numeric features
        (``policy.drift.psi_bins``).
    columns
        Columns to compare; all columns of ``reference`` by default.

    Returns
    -------
    dict[str, float]
        PSI per column, in column order.

    Raises
    ------
    InvalidInputError
        When a column is missing from either frame, or a column's samples are
        empty or of different kinds.
    """
    names = list(reference.columns if columns is None else columns)
    _check_columns(names, reference, current)
    return profile_reference(reference, bins=bins, columns=names).psi(current)


def drift_flags(psi: Mapping[str, float], policy: Policy) -> dict[str, DriftFlag]:
    """Classify each feature's PSI against the policy's drift thresholds.

    Parameters
    ----------
    psi
        PSI per feature.
    policy
        The governance policy; reads ``policy.drift.psi_warn`` and
        ``policy.drift.psi_retrain``.

    Returns
    -------
    dict[str, str]
        ``"retrain"`` when PSI >= ``psi_retrain``, ``"warn"`` when PSI >=
        ``psi_warn``, otherwise ``"ok"``.
    """
    return {name: _flag(value, policy) for name, value in psi.items()}


def assess_drift(
    reference: pd.DataFrame | ReferenceProfile,
    current: pd.DataFrame,
    *,
    policy: Policy,
    columns: Iterable[str] | None = None,
) -> DriftAssessment:
    """PSI of each feature, flagged against the policy.

    Parameters
    ----------
    reference
        The reference sample (usually the training data), or its stored profile.
    current
        The current sample.
    policy
        The governance policy; reads ``policy.drift``.
    columns
        Columns to compare; all reference columns by default.

    Returns
    -------
    DriftAssessment
        PSI and flag per feature, with the thresholds applied.
    """
    if isinstance(reference, ReferenceProfile):
        if reference.bins != policy.drift.psi_bins:
            raise InvalidInputError(
                f"The reference profile has {reference.bins} bins but the policy "
                f"asks for {policy.drift.psi_bins}; profile the reference again."
            )
        psi = reference.psi(current, columns=columns)
    else:
        psi = feature_psi(
            reference, current, bins=policy.drift.psi_bins, columns=columns
        )

    assessment = DriftAssessment(
        psi=psi,
        flags=drift_flags(psi, policy),
        bins=policy.drift.psi_bins,
        psi_warn=policy.drift.psi_warn,
        psi_retrain=policy.drift.psi_retrain,
    )
    logger.info(
        "Drift assessed on %s features: %s past the retraining threshold",
        len(psi),
        len(assessment.features_to_retrain),
    )
    return assessment


def _flag(value: float, policy: Policy) -> DriftFlag:
    if reaches(value, policy.drift.psi_retrain):
        return "retrain"
    if reaches(value, policy.drift.psi_warn):
        return "warn"
    return "ok"


def _shares(counts: np.ndarray, epsilon: float) -> np.ndarray:
    shares = counts / counts.sum()
    shares[shares == 0] = epsilon
    return shares


def _map_columns(
    function: Callable[[str], _T], names: list[str], max_workers: int | None
) -> dict[str, _T]:
    """Apply ``function`` to each column name, on threads when there are several.

    numpy's sort and comparisons release the GIL, so columns bin in parallel.
    """

    def apply(name: str) -> _T:
        try:
            return function(name)
        except InvalidInputError as exc:
            raise InvalidInputError(f"Column {name!r}: {exc}") from exc

    workers = min(max_workers or os.cpu_count() or 1, len(names) or 1)
    if workers == 1:
        return {name: apply(name) for name in names}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(zip(names, pool.map(apply, names), strict=True))


def _check_columns(names: list[str], *frames: Iterable[str]) -> None:
    missing = [name for name in names if not all(name in frame for frame in frames)]
    if missing:
        raise InvalidInputError(
            f"Columns missing from the reference or current data: {missing}. "
            "Compare frames with the same columns, or pass `columns`."
        )


def _as_series(values: ArrayLike) -> pd.Series:
    if isinstance(values, pd.Series):
        return values
    array = np.asarray(values)
    if array.ndim != 1:
        raise InvalidInputError(
            f"Expected one feature (a 1-D array), got shape {array.shape}."
        )
    return pd.Series(array, copy=False)


def _check_not_empty(sample: pd.Series, name: str) -> None:
    if len(sample) == 0:
        raise InvalidInputError(
            f"The {name} sample is empty; PSI needs at least one row in each "
            "sample. Check the date range or filter that selected it."
        )


def _kind(sample: pd.Series, name: str) -> FeatureKind:
    dtype = sample.dtype
    if pd.api.types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        return "categorical"
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(
        dtype
    ):
        return "numeric"
    raise NotImplementedError(
        f"PSI of a {dtype} {name} sample is not supported; convert it to a number "
        "(for a date, an age in days) or to a category first."
    )


def _as_float(name: str, values: ArrayLike) -> np.ndarray:
    try:
        if isinstance(values, pd.Series):
            if values.dtype == np.float64:
                return np.ascontiguousarray(values.to_numpy())
            return values.to_numpy(dtype=np.float64, na_value=np.nan)
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"The {name} sample is not numeric: {exc}.") from exc


def _numeric_profile(values: np.ndarray, bins: int) -> FeatureProfile:
    ordered = np.sort(values)
    missing = int(np.count_nonzero(np.isnan(values)))
    ordered = ordered[: len(ordered) - missing]  # the sort puts NaN last
    if len(ordered) and not (np.isfinite(ordered[0]) and np.isfinite(ordered[-1])):
        raise InvalidInputError(
            "The reference holds infinite values, so its quantiles are undefined; "
            "replace them with missing values or clip them."
        )

    edges = _quantile_edges(ordered, bins)
    below = np.searchsorted(ordered, edges, side="left")
    counts = np.diff(below, prepend=0, append=len(ordered))
    return FeatureProfile(
        kind="numeric",
        edges=tuple(edges.tolist()),
        categories=(),
        counts=(*counts.tolist(), missing),
    )


def _quantile_edges(ordered: np.ndarray, bins: int) -> np.ndarray:
    if bins < 2:
        raise InvalidInputError(f"PSI needs at least 2 bins, got {bins}.")
    if len(ordered) == 0:
        return np.empty(0)
    position = np.arange(1, bins) / bins * (len(ordered) - 1)
    below = np.floor(position).astype(np.intp)
    above = np.minimum(below + 1, len(ordered) - 1)
    low, high = ordered[below], ordered[above]
    return np.unique(low + (position - below) * (high - low))


def _counts_at_edges(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts in the bins cut at ``edges`` (open outer bins), then missing values."""
    missing = np.count_nonzero(np.isnan(values))
    valid = len(values) - missing
    if len(edges) <= _MAX_EDGES_FOR_SCAN:
        below = np.array([np.count_nonzero(values < edge) for edge in edges])
    else:
        below = np.searchsorted(np.sort(values)[:valid], edges, side="left")
    counts = np.diff(below.astype(np.int64), prepend=0, append=valid)
    return np.append(counts, missing)


def _categorical_profile(reference: pd.Series) -> FeatureProfile:
    values, counts, missing = _value_counts(reference)
    return FeatureProfile(
        kind="categorical",
        edges=(),
        categories=tuple(_plain(value) for value in values),
        counts=(*counts.tolist(), missing),
    )


def _value_counts(sample: pd.Series) -> tuple[pd.Index, np.ndarray, int]:
    """Distinct non-missing values, their counts, and the count of missing values.

    ``value_counts`` hashes each value once; factorizing would also write a code
    per row, which is not needed here.
    """
    counts = sample.value_counts(dropna=False, sort=False)
    is_missing = pd.isna(counts.index)
    values = pd.Index(counts.index[~is_missing], dtype=object)
    per_value = counts.to_numpy()
    return values, per_value[~is_missing], int(per_value[is_missing].sum())


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python scalar JSON understands."""
    return value.item() if isinstance(value, np.generic) else value
