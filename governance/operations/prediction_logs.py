"""Reading the prediction logs written by the team's serving platform.

The console does not serve models. The platform that does writes one row per
prediction to a CSV file, a Parquet file or a Delta table, with these columns:

``model_version``
    The governed version that produced the score (``"2"``).
``timestamp``
    When the prediction was made (ISO 8601; naive times are taken as UTC).
``score``
    The predicted probability of the positive class, in [0, 1].
``outcome`` (optional)
    The true label once known: 0, 1, or empty while it is not.
``traffic`` (optional)
    ``production`` (the default), ``shadow`` or ``canary``: which path served it.
``request_id`` (optional)
    Pairs a shadow prediction with the production prediction for the same request.
``model_name`` (optional)
    Needed only when one log holds several models.

Every other column is taken as a model input feature.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from governance.datasets import DatasetRef, read_dataset
from governance.errors import InvalidInputError

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("model_version", "timestamp", "score")
TRAFFIC_KINDS = ("production", "shadow", "canary")
RESERVED_COLUMNS = (*REQUIRED_COLUMNS, "outcome", "traffic", "request_id", "model_name")


@dataclass(frozen=True)
class PredictionLog:
    """Validated predictions, and exactly which file or table version they came from."""

    frame: pd.DataFrame
    source: DatasetRef

    @property
    def feature_columns(self) -> list[str]:
        """The model input columns the log carries."""
        return [c for c in self.frame.columns if c not in RESERVED_COLUMNS]

    @property
    def has_outcomes(self) -> bool:
        """Whether any prediction in the log already has its true label."""
        return bool(self.frame["outcome"].notna().any())


def read_prediction_log(
    reference: str,
    *,
    model_name: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> PredictionLog:
    """Read, validate and window a prediction log.

    Parameters
    ----------
    reference
        A CSV or Parquet path, or a Delta table path (``path@vN`` pins a version).
    model_name
        Keep only this model's rows when the log has a ``model_name`` column.
    start, end
        Keep predictions with ``start <= timestamp < end`` (UTC).

    Raises
    ------
    InvalidInputError
        When a required column is missing or a value is out of its domain; the
        message names the column and the first offending row.
    """
    frame, source = read_dataset(reference)
    frame = _validated(frame, source.path)
    if model_name is not None and "model_name" in frame.columns:
        frame = frame[frame["model_name"].astype(str) == model_name]
    if start is not None:
        frame = frame[frame["timestamp"] >= _as_utc(start)]
    if end is not None:
        frame = frame[frame["timestamp"] < _as_utc(end)]
    return PredictionLog(frame.reset_index(drop=True), source)


def _as_utc(moment: datetime) -> pd.Timestamp:
    """``moment`` in UTC; a naive time is taken as UTC, as in the log itself."""
    stamp = pd.Timestamp(moment)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _validated(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"The prediction log {where} has no {', '.join(missing)} column; a log "
            f"needs {', '.join(REQUIRED_COLUMNS)} (see the README's prediction logs)."
        )
    frame = frame.copy()
    frame["model_version"] = frame["model_version"].astype(str)
    frame["timestamp"] = _utc_times(frame["timestamp"], where)
    frame["score"] = _checked(frame["score"], where, "score", lambda s: s.between(0, 1))
    if "outcome" not in frame.columns:
        frame["outcome"] = pd.Series(pd.NA, index=frame.index, dtype="Float64")
    frame["outcome"] = _checked(
        frame["outcome"], where, "outcome", lambda s: s.isna() | s.isin([0, 1])
    )
    if "traffic" not in frame.columns:
        frame["traffic"] = "production"
    frame["traffic"] = frame["traffic"].fillna("production").astype(str)
    wrong = ~frame["traffic"].isin(TRAFFIC_KINDS)
    if wrong.any():
        raise InvalidInputError(
            f"The prediction log {where} has traffic {frame['traffic'][wrong].iloc[0]!r} "
            f"in row {int(wrong.to_numpy().argmax())}; use one of {', '.join(TRAFFIC_KINDS)}."
        )
    return frame


def _utc_times(values: pd.Series, where: str) -> pd.Series:
    times = pd.to_datetime(values, errors="coerce", utc=True, format="ISO8601")
    bad = times.isna()
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise InvalidInputError(
            f"The prediction log {where} has an unreadable timestamp {values.iloc[row]!r} "
            f"in row {row}; write ISO 8601 times such as 2026-05-31T12:00:00Z."
        )
    return times


def _checked(values: pd.Series, where: str, column: str, is_valid) -> pd.Series:  # type: ignore[no-untyped-def]
    numbers = pd.to_numeric(values, errors="coerce").astype("Float64")
    bad = (numbers.isna() & values.notna()) | ~is_valid(numbers).fillna(False)
    if column == "score":
        bad |= numbers.isna()
    if bad.any():
        row = int(bad.to_numpy().argmax())
        allowed = "a number from 0 to 1" if column == "score" else "0, 1 or empty"
        raise InvalidInputError(
            f"The prediction log {where} has {column} '{values.iloc[row]}' in row "
            f"{row}; it must be {allowed}."
        )
    return numbers
