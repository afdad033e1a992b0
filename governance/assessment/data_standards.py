r"""Data standards of the training data: quality, volume, freshness and PII.

The framework ("Model Development Standards" / "Data Requirements") asks for a
minimum data quality score, a minimum number of training rows, training data within
a maximum age, and PII handled lawfully. Each becomes one `Standard` row compared
with ``policy.data_standards``.

Quality score
-------------
The assessed columns :math:`C` are the features and the target; :math:`n` is the
number of rows. The score is the mean of four parts, each in [0, 1]::

    quality_score = (completeness + validity + uniqueness + consistency) / 4

**Completeness**, the share of assessed cells that are not missing (``NaN``,
``None``, ``NaT``)::

    completeness = 1 - (sum over c in C of missing_c) / (n * |C|)

A column that is entirely missing is listed in ``all_missing_columns`` and lowers
completeness like any other missing cell.

**Validity**, the share of non-missing assessed cells that conform to the column's
type (missing cells are already counted by completeness)::

    validity = (sum over c of valid_c) / (sum over c of (n - missing_c))

The type of a column is taken from ``schema`` when it names the column, else it is
inferred. A cell is valid when:

- ``binary`` (always the target): the value is 0 or 1;
- ``numeric``: the value is a finite number;
- ``integer``: a finite whole number;
- ``non_negative``: a finite number >= 0;
- ``categorical``: anything but a blank string;
- ``boolean``: ``True``, ``False``, 0 or 1;
- ``datetime``: a value that reads as a date and time.

Inference: boolean columns are ``boolean``; datetime columns ``datetime``; numeric
columns ``non_negative`` when at least `NON_NEGATIVE_SHARE` (99 %) of their values are
>= 0 (counts and amounts with a few sign errors), else ``numeric``; text columns
whose values are at least `NUMERIC_TEXT_SHARE` (90 %) numbers are ``numeric`` (so
placeholders such as ``"N/A"`` in a numeric column are invalid); other columns are
``categorical``.

**Uniqueness**, the share of rows that do not repeat an earlier row::

    uniqueness = 1 - duplicate_rows / n

A row is a duplicate when its values over :math:`C` equal those of an earlier row,
or when its identifier repeats an earlier one. The identifier is the column named
``id`` or ending in ``_id``/``Id`` (declared or detected PII columns excluded) whose
distinct values make up the largest share of its non-missing values, provided that
share is at least `ID_MIN_DISTINCT_RATIO` (95 %); a column with more repeats is a
grouping key such as a customer, not a row key.

**Consistency**, the share of rows without an internal contradiction::

    consistency = 1 - inconsistent_rows / n

A row is inconsistent when any of these holds:

- its timestamp is later than ``as_of`` (a record from the future);
- a numeric assessed value lies outside
  ``[Q1 - k * IQR, Q3 + k * IQR]`` with ``k = RANGE_IQR_MULTIPLE`` (10), where Q1,
  Q3 are the column's 25th and 75th percentiles and ``IQR = Q3 - Q1``. When the IQR
  is 0 (a column dominated by one value) the 1st and 99th percentiles and their
  distance take the place of Q1, Q3 and IQR; when that distance is also 0 the
  column is not range-checked;
- a categorical value is a minority spelling of another value of the same column
  after folding case and whitespace (``"web form"`` beside ``"Web Form"``); the
  most frequent spelling of each folded value is taken as the right one.

Volume, freshness and PII
-------------------------
- ``training_rows``: ``len(train) >= min_training_rows``.
- ``training_data_age_days``: days from the newest timestamp at or before ``as_of``
  to ``as_of``, at most ``max_training_age_days``. Without a timestamp column the
  age is ``"not assessable"`` and the standard fails.
- ``pii_in_features``: the PII columns are those declared plus those found by
  `governance.assessment.pii.detect_pii`. A PII column among the features fails
  unless ``pii_in_features_allowed``; PII columns outside the features are listed,
  not failed.

Timestamps without a time zone are read as UTC, as is a naive ``as_of``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from governance.assessment.pii import PiiFinding, detect_pii
from governance.assessment.standards import Standard
from governance.errors import InvalidInputError
from governance.policy import Policy

logger = logging.getLogger(__name__)

NON_NEGATIVE_SHARE = 0.99
"""Share of values >= 0 above which a numeric column is read as non-negative."""

NUMERIC_TEXT_SHARE = 0.9
"""Share of number-like values above which a text column is read as numeric."""

ID_MIN_DISTINCT_RATIO = 0.95
"""Share of distinct values an identifier column needs to be read as a row key."""

RANGE_IQR_MULTIPLE = 10.0
"""Multiple of the interquartile range beyond the quartiles that is implausible."""

COLUMN_TYPES = (
    "binary",
    "numeric",
    "integer",
    "non_negative",
    "categorical",
    "boolean",
    "datetime",
)
_NUMERIC_TYPES = frozenset({"numeric", "integer", "non_negative"})
_SECONDS_PER_DAY = 86_400.0
_INFERENCE_SAMPLE = 1000


@dataclass(frozen=True)
class DataStandardsResult:
    """Evidence of the data standards assessment.

    Attributes
    ----------
    rows
        Number of training rows.
    quality_score
        Mean of completeness, validity, uniqueness and consistency.
    completeness, validity, uniqueness, consistency
        The four parts of the quality score, each in [0, 1].
    missing_share
        Share of missing cells per assessed column.
    invalid_cells
        Number of non-missing cells per assessed column that fail their type.
    column_types
        The type each assessed column was checked against.
    all_missing_columns
        Assessed columns with no value at all.
    duplicate_rows
        Rows that repeat an earlier row or identifier.
    id_column
        The column used as row identifier, if any.
    inconsistent_rows
        Rows with at least one contradiction.
    inconsistencies
        Number of rows per kind of contradiction: ``future_timestamp``,
        ``out_of_range`` and ``inconsistent_spelling``.
    newest_timestamp
        Newest training timestamp at or before ``as_of``, ISO 8601 in UTC.
    training_age_days
        Age in days of `newest_timestamp` at ``as_of``.
    pii_in_features
        PII columns used as features.
    pii_elsewhere
        PII columns present in the data but not used as features.
    pii_findings
        What automatic detection found, with the reason for each column.
    standards
        The checks against the policy.
    """

    rows: int
    quality_score: float
    completeness: float
    validity: float
    uniqueness: float
    consistency: float
    missing_share: dict[str, float]
    invalid_cells: dict[str, int]
    column_types: dict[str, str]
    all_missing_columns: tuple[str, ...]
    duplicate_rows: int
    id_column: str | None
    inconsistent_rows: int
    inconsistencies: dict[str, int]
    newest_timestamp: str | None
    training_age_days: float | None
    pii_in_features: tuple[str, ...]
    pii_elsewhere: tuple[str, ...]
    pii_findings: tuple[PiiFinding, ...]
    standards: tuple[Standard, ...]

    @property
    def passed(self) -> bool:
        """Whether every data standard passed."""
        return all(standard.passed for standard in self.standards)

    def to_dict(self) -> dict[str, Any]:
        """Return the evidence as plain JSON-serialisable values."""
        return {
            "rows": self.rows,
            "quality_score": self.quality_score,
            "completeness": self.completeness,
            "validity": self.validity,
            "uniqueness": self.uniqueness,
            "consistency": self.consistency,
            "missing_share": dict(self.missing_share),
            "invalid_cells": dict(self.invalid_cells),
            "column_types": dict(self.column_types),
            "all_missing_columns": list(self.all_missing_columns),
            "duplicate_rows": self.duplicate_rows,
            "id_column": self.id_column,
            "inconsistent_rows": self.inconsistent_rows,
            "inconsistencies": dict(self.inconsistencies),
            "newest_timestamp": self.newest_timestamp,
            "training_age_days": self.training_age_days,
            "pii_in_features": list(self.pii_in_features),
            "pii_elsewhere": list(self.pii_elsewhere),
            "pii_findings": [finding.to_dict() for finding in self.pii_findings],
            "standards": [standard.to_dict() for standard in self.standards],
            "passed": self.passed,
        }


def assess_data_standards(
    train: pd.DataFrame,
    *,
    features: list[str],
    target: str,
    timestamp: str | None,
    pii_columns: list[str],
    policy: Policy,
    as_of: datetime,
    schema: dict[str, str] | None = None,
) -> DataStandardsResult:
    """Assess training data against the policy's data standards.

    Parameters
    ----------
    train
        The training data, one row per example.
    features
        Columns the model uses as input.
    target
        The binary outcome column, coded 0/1 (or ``False``/``True``).
    timestamp
        Column dating each row, or ``None`` when the data has none (freshness then
        fails as not assessable).
    pii_columns
        Columns declared as personal data; detected ones are added.
    policy
        The governance policy; ``policy.data_standards`` holds the thresholds.
    as_of
        Moment the data is judged at (for freshness and future timestamps).
    schema
        Optional declared type per column, one of `COLUMN_TYPES`; columns without
        an entry have their type inferred.

    Returns
    -------
    DataStandardsResult
        The quality parts, the evidence behind them and the standards rows.

    Raises
    ------
    InvalidInputError
        When the data cannot be assessed: empty frame, duplicate column names,
        missing features, target or timestamp column, a target that is not 0/1 with
        both classes, unreadable timestamps, or an unknown schema type.
    """
    _validate_frame(train, features=features, target=target, timestamp=timestamp)
    assessed = [*features, target]
    _check_binary_target(train[target], target)
    column_types = _column_types(train, features, target, schema or {})
    as_of_utc = _as_utc(as_of)
    times = _timestamps(train[timestamp], timestamp) if timestamp else None

    missing = train[assessed].isna()
    categories = {
        column: _category_checks(train[column])
        for column, kind in column_types.items()
        if kind == "categorical"
    }
    invalid_cells = _invalid_cells(train, column_types, missing, categories)
    pii_findings = detect_pii(train)
    pii = _pii_columns(train, pii_columns, pii_findings)
    id_column = _id_column(train, exclude={target, *pii})
    duplicates = _duplicate_rows(train, assessed, id_column)
    inconsistencies = _inconsistencies(
        train, column_types, categories, times, as_of_utc
    )

    rows = len(train)
    completeness = 1.0 - float(missing.to_numpy().mean())
    present_cells = int((~missing).to_numpy().sum())
    validity = 1.0 - sum(invalid_cells.values()) / present_cells
    uniqueness = 1.0 - int(duplicates.sum()) / rows
    inconsistent = np.logical_or.reduce(list(inconsistencies.values()))
    consistency = 1.0 - int(inconsistent.sum()) / rows
    quality_score = (completeness + validity + uniqueness + consistency) / 4.0

    newest, age_days = _freshness(times, as_of_utc)
    pii_in_features = tuple(column for column in features if column in pii)
    pii_elsewhere = tuple(
        str(column)
        for column in train.columns
        if column in pii and column not in features
    )
    standards = (
        _quality_standard(quality_score, policy),
        _volume_standard(rows, policy),
        _freshness_standard(timestamp, age_days, policy),
        _pii_standard(pii_in_features, pii_elsewhere, policy),
    )
    missing_share = missing.mean()
    result = DataStandardsResult(
        rows=rows,
        quality_score=quality_score,
        completeness=completeness,
        validity=validity,
        uniqueness=uniqueness,
        consistency=consistency,
        missing_share={column: float(missing_share[column]) for column in assessed},
        invalid_cells=invalid_cells,
        column_types=column_types,
        all_missing_columns=tuple(c for c in assessed if missing_share[c] == 1.0),
        duplicate_rows=int(duplicates.sum()),
        id_column=None if id_column is None else str(id_column),
        inconsistent_rows=int(inconsistent.sum()),
        inconsistencies={
            kind: int(mask.sum()) for kind, mask in inconsistencies.items()
        },
        newest_timestamp=None if newest is None else newest.isoformat(),
        training_age_days=age_days,
        pii_in_features=pii_in_features,
        pii_elsewhere=pii_elsewhere,
        pii_findings=tuple(pii_findings),
        standards=standards,
    )
    logger.info(
        "Data standards assessed: %s rows, quality %.4f, passed %s",
        rows,
        quality_score,
        result.passed,
    )
    return result


# -- validation -----------------------------------------------------------------


def _validate_frame(
    train: pd.DataFrame, *, features: list[str], target: str, timestamp: str | None
) -> None:
    if not isinstance(train, pd.DataFrame):
        raise InvalidInputError(
            f"The training data must be a pandas DataFrame, got {type(train).__name__}."
        )
    if train.empty:
        raise InvalidInputError(
            "The training data is empty (no rows or no columns). Load the training "
            "file again and check it has a header and rows."
        )
    if not train.columns.is_unique:
        repeated = sorted({str(c) for c in train.columns[train.columns.duplicated()]})
        raise InvalidInputError(
            f"The training data has repeated column names: {', '.join(repeated)}. "
            "Rename them so each column has one name."
        )
    if not features:
        raise InvalidInputError(
            "No features were given. Name the model's input columns."
        )
    if target in features:
        raise InvalidInputError(
            f"The target {target!r} is also listed as a feature. Remove it from the "
            "features."
        )

    absent = [column for column in features if column not in train.columns]
    if absent:
        raise InvalidInputError(
            f"Features missing from the training data: {', '.join(absent)}. Check the "
            "feature list against the file's columns."
        )
    for role, column in (("target", target), ("timestamp", timestamp)):
        if column is not None and column not in train.columns:
            raise InvalidInputError(
                f"The {role} column {column!r} is not in the training data. Name a "
                "column the file has."
            )


def _check_binary_target(values: pd.Series, target: str) -> None:
    present = values.dropna()
    if present.empty:
        raise InvalidInputError(
            f"The target column {target!r} has no values. Fill it with 0/1 outcomes."
        )

    numbers = pd.to_numeric(present, errors="coerce")
    if numbers.isna().any() or not numbers.isin([0, 1]).all():
        shown = ", ".join(repr(v) for v in present.drop_duplicates().head(5).tolist())
        raise InvalidInputError(
            f"The target column {target!r} must hold 0/1 (or False/True); it holds "
            f"{shown}. Encode the positive class as 1 and the other as 0."
        )
    if numbers.nunique() < 2:
        raise InvalidInputError(
            f"The target column {target!r} holds only the value "
            f"{int(numbers.iloc[0])}; a binary target needs both 0 and 1."
        )


def _column_types(
    train: pd.DataFrame, features: list[str], target: str, schema: dict[str, str]
) -> dict[str, str]:
    unknown = {
        column: kind for column, kind in schema.items() if kind not in COLUMN_TYPES
    }
    if unknown:
        listed = ", ".join(f"{column}: {kind!r}" for column, kind in unknown.items())
        raise InvalidInputError(
            f"Unknown column types in the schema ({listed}). Use one of "
            f"{', '.join(COLUMN_TYPES)}."
        )
    unused = sorted(str(column) for column in schema if column not in train.columns)
    if unused:
        logger.warning("Schema names columns not in the data: %s", ", ".join(unused))

    types = {
        column: schema.get(column) or _infer_type(train[column]) for column in features
    }
    types[target] = "binary"
    return types


def _infer_type(values: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(values):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(values):
        return "datetime"
    if pd.api.types.is_numeric_dtype(values):
        numbers = _as_numbers(values)
        present = numbers[~np.isnan(numbers)]
        if present.size and np.mean(present >= 0) >= NON_NEGATIVE_SHARE:
            return "non_negative"
        return "numeric"
    if values.dtype == object:
        sample = values
        if len(values) > _INFERENCE_SAMPLE:
            sample = values.sample(n=_INFERENCE_SAMPLE, random_state=0)
        present = sample.dropna()
        if present.size:
            parsed = pd.to_numeric(present, errors="coerce").notna().mean()
            if parsed >= NUMERIC_TEXT_SHARE:
                return "numeric"
    return "categorical"


# -- validity -------------------------------------------------------------------


def _as_numbers(values: pd.Series) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype=float, na_value=np.nan)
    codes, uniques = pd.factorize(values)
    numbers = pd.to_numeric(pd.Series(uniques, dtype=object), errors="coerce")
    lookup = np.append(numbers.to_numpy(dtype=float, na_value=np.nan), np.nan)
    return lookup[codes]


def _is_valid(values: pd.Series, kind: str) -> np.ndarray:
    if kind == "binary":
        return np.isin(_as_numbers(values), [0.0, 1.0])
    if kind in _NUMERIC_TYPES:
        numbers = _as_numbers(values)
        valid = np.isfinite(numbers)
        with np.errstate(invalid="ignore"):
            if kind == "integer":
                valid &= numbers == np.floor(numbers)
            if kind == "non_negative":
                valid &= numbers >= 0
        return valid
    if kind == "boolean":
        return values.isin([True, False, 0, 1]).to_numpy()
    if kind == "datetime":
        if pd.api.types.is_datetime64_any_dtype(values):
            return np.ones(len(values), dtype=bool)
        parsed = pd.to_datetime(values, errors="coerce", format="ISO8601", utc=True)
        return parsed.notna().to_numpy()
    raise ValueError(f"no validity rule for column type {kind!r}")


@dataclass(frozen=True)
class _CategoryChecks:
    blank: np.ndarray
    minority_spelling: np.ndarray


def _category_checks(values: pd.Series) -> _CategoryChecks:
    # Both checks look at each distinct value once, not at every row.
    codes, uniques = pd.factorize(values)
    is_blank = np.array(
        [isinstance(value, str) and not value.strip() for value in uniques], dtype=bool
    )
    return _CategoryChecks(
        blank=np.append(is_blank, False)[codes],
        minority_spelling=_minority_spelling(codes, uniques),
    )


def _invalid_cells(
    train: pd.DataFrame,
    column_types: dict[str, str],
    missing: pd.DataFrame,
    categories: dict[str, _CategoryChecks],
) -> dict[str, int]:
    counts = {}
    for column, kind in column_types.items():
        if kind == "categorical":
            valid = ~categories[column].blank
        else:
            valid = _is_valid(train[column], kind)
        present = ~missing[column].to_numpy()
        counts[column] = int((present & ~valid).sum())
    return counts


# -- uniqueness -----------------------------------------------------------------

_ID_NAME = re.compile(r"(?:^|_)(?:id|ID|Id)$|(?<=[a-z0-9])(?:Id|ID)$")


def _id_column(train: pd.DataFrame, *, exclude: set[Hashable]) -> Hashable | None:
    best: Hashable | None = None
    best_ratio = ID_MIN_DISTINCT_RATIO
    for column in train.columns:
        name = str(column)
        if column in exclude or not _ID_NAME.search(name):
            continue
        if pd.api.types.is_float_dtype(train[column]):
            continue
        present = train[column].dropna()
        if present.empty:
            continue
        ratio = present.nunique() / len(present)
        if ratio >= best_ratio:
            best, best_ratio = column, ratio
    return best


def _duplicate_rows(
    train: pd.DataFrame, assessed: list[str], id_column: Hashable | None
) -> np.ndarray:
    # A 64-bit hash per row finds the same duplicates as DataFrame.duplicated at a
    # fraction of the cost on wide frames; a collision is vanishingly unlikely.
    row_hashes = pd.util.hash_pandas_object(train[assessed], index=False)
    duplicates = row_hashes.duplicated(keep="first").to_numpy()
    if id_column is not None:
        ids = train[id_column]
        duplicates |= (ids.duplicated(keep="first") & ids.notna()).to_numpy()
    return duplicates


# -- consistency ----------------------------------------------------------------


def _inconsistencies(
    train: pd.DataFrame,
    column_types: dict[str, str],
    categories: dict[str, _CategoryChecks],
    times: pd.Series | None,
    as_of: pd.Timestamp,
) -> dict[str, np.ndarray]:
    rows = len(train)
    future = np.zeros(rows, dtype=bool)
    if times is not None:
        future = (times > as_of).to_numpy(dtype=bool)

    numeric = [c for c, kind in column_types.items() if kind in _NUMERIC_TYPES]
    spelling = np.zeros(rows, dtype=bool)
    for checks in categories.values():
        spelling |= checks.minority_spelling
    return {
        "future_timestamp": future,
        "out_of_range": _out_of_range(train, numeric),
        "inconsistent_spelling": spelling,
    }


def _out_of_range(train: pd.DataFrame, columns: list[str]) -> np.ndarray:
    outside = np.zeros(len(train), dtype=bool)
    if not columns:
        return outside

    for column in columns:
        numbers = _as_numbers(train[column])
        finite = numbers[np.isfinite(numbers)]
        if finite.size == 0:
            continue
        p01, q1, q3, p99 = np.percentile(finite, [1, 25, 75, 99])
        low, high = (q1, q3) if q3 > q1 else (p01, p99)
        spread = high - low
        if spread == 0:
            continue
        with np.errstate(invalid="ignore"):
            outside |= numbers < low - RANGE_IQR_MULTIPLE * spread
            outside |= numbers > high + RANGE_IQR_MULTIPLE * spread
    return outside


def _minority_spelling(codes: np.ndarray, uniques: Any) -> np.ndarray:
    if len(uniques) < 2:
        return np.zeros(len(codes), dtype=bool)

    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    spellings = pd.DataFrame(
        {
            "folded": [_fold(value) for value in uniques],
            "count": counts,
        }
    )
    spellings = spellings[spellings["folded"].notna() & (spellings["folded"] != "")]
    canonical = spellings.groupby("folded")["count"].transform("idxmax")
    minority = spellings.index[spellings.index != canonical].to_numpy()
    return np.isin(codes, minority)


def _fold(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return " ".join(value.split()).casefold()


# -- freshness ------------------------------------------------------------------


def _as_utc(moment: datetime) -> pd.Timestamp:
    stamp = pd.Timestamp(moment)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _timestamps(values: pd.Series, column: str) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        raise InvalidInputError(
            f"The timestamp column {column!r} holds numbers, not dates. Convert it to "
            "ISO 8601 dates (2024-05-31 or 2024-05-31T12:00:00)."
        )
    if pd.api.types.is_datetime64_any_dtype(values):
        times = pd.to_datetime(values, utc=True)
    else:
        times = pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601")
    if times.isna().all():
        raise InvalidInputError(
            f"No value of the timestamp column {column!r} reads as a date. Write the "
            "dates in ISO 8601 (2024-05-31 or 2024-05-31T12:00:00)."
        )
    return times


def _freshness(
    times: pd.Series | None, as_of: pd.Timestamp
) -> tuple[pd.Timestamp | None, float | None]:
    if times is None:
        return None, None
    past = times[times <= as_of]
    if past.empty:
        return None, None
    newest = past.max()
    return newest, (as_of - newest).total_seconds() / _SECONDS_PER_DAY


# -- standards ------------------------------------------------------------------


def _pii_columns(
    train: pd.DataFrame, declared: list[str], findings: list[PiiFinding]
) -> set[str]:
    detected = {finding.column for finding in findings}
    by_text = {str(column): column for column in train.columns}
    return {column for column in declared if column in train.columns} | {
        by_text[name] for name in detected
    }


def _quality_standard(score: float, policy: Policy) -> Standard:
    minimum = policy.data_standards.min_quality_score
    passed = score >= minimum
    detail = "" if passed else f"Quality score {score:.4f} is below {minimum}."
    return Standard("data_quality_score", score, minimum, passed, detail)


def _volume_standard(rows: int, policy: Policy) -> Standard:
    minimum = policy.data_standards.min_training_rows
    passed = rows >= minimum
    detail = "" if passed else f"{rows} training rows, {minimum} required."
    return Standard("training_rows", rows, minimum, passed, detail)


def _freshness_standard(
    timestamp: str | None,
    age_days: float | None,
    policy: Policy,
) -> Standard:
    maximum = policy.data_standards.max_training_age_days
    name = "training_data_age_days"
    if timestamp is None:
        detail = (
            "No timestamp column was given, so the age of the training data is "
            "unknown. Pass --timestamp with the column that dates each row."
        )
        return Standard(name, "not assessable", maximum, False, detail)
    if age_days is None:
        detail = (
            f"Every timestamp in {timestamp!r} is after the assessment date; check the "
            "column's time zone and dates."
        )
        return Standard(name, "not assessable", maximum, False, detail)

    passed = age_days <= maximum
    detail = "" if passed else f"Newest training row is {age_days:.0f} days old."
    return Standard(name, age_days, maximum, passed, detail)


def _pii_standard(
    in_features: tuple[str, ...], elsewhere: tuple[str, ...], policy: Policy
) -> Standard:
    allowed = policy.data_standards.pii_in_features_allowed
    threshold = "allowed" if allowed else "none"
    value = ", ".join(in_features) if in_features else "none"
    passed = allowed or not in_features
    notes = []
    if in_features:
        notes.append(f"PII used as features: {value}.")
    if not passed:
        notes.append("Remove these columns from the features or pseudonymise them.")
    if elsewhere:
        notes.append(
            f"PII in the data but not used as features: {', '.join(elsewhere)}."
        )
    return Standard("pii_in_features", value, threshold, passed, " ".join(notes))
