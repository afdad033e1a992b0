"""Evidently's data drift report on a sample of reference and current data.

The console judges drift by PSI against the policy (`governance.assessment.drift`).
This report adds evidently's own per-column statistical tests and its HTML view, as
supporting evidence a reviewer can open. Its tests and thresholds are evidently's
defaults (``DataDriftPreset`` without options), not policy. Evidently chooses each
column's test from its type, its number of distinct values and the sample size: up
to 1,000 rows, the Kolmogorov-Smirnov test (numeric), chi-square or, for two
categories, the Z-test (categorical or few distinct values), drifted when the
p-value is at or below 0.05; above that, the Wasserstein distance normed by the
reference's standard deviation or the Jensen-Shannon distance, drifted when the
distance reaches 0.1. The summary records the test evidently chose for each column,
its score and threshold, and evidently's verdict.

Columns with a numeric dtype (booleans excepted) are declared numerical, the others
categorical. Reference and current are each sampled to at most ``sample_rows`` rows,
at positions drawn by numpy's generator from ``seed``, so the same data and seed give
the same report. evidently takes several seconds to import, so it is imported on
first use.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from governance.errors import InvalidInputError

logger = logging.getLogger(__name__)

ScoreKind = Literal["p_value", "distance"]
ColumnType = Literal["numerical", "categorical"]


@dataclass(frozen=True)
class ColumnDrift:
    """Evidently's drift test on one column.

    ``score`` is a p-value when ``score_kind`` is ``"p_value"`` (drifted at or
    below the threshold) and a distance otherwise (drifted at or above it).
    """

    column: str
    column_type: ColumnType
    method: str
    score_kind: ScoreKind
    score: float
    threshold: float
    drifted: bool


@dataclass(frozen=True)
class DriftReport:
    """Evidently's data drift report: the HTML and a per-column summary."""

    columns: list[ColumnDrift]
    reference_rows: int
    current_rows: int
    sample_rows: int
    seed: int
    evidently_version: str
    html: str = field(repr=False)

    @property
    def drifted_columns(self) -> list[str]:
        """Columns evidently found drifted."""
        return [column.column for column in self.columns if column.drifted]

    @property
    def share_of_drifted_columns(self) -> float:
        """Drifted columns as a share of the columns tested."""
        return len(self.drifted_columns) / len(self.columns)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable summary; the HTML is stored with `save_html`."""
        summary = asdict(self)
        del summary["html"]
        return {
            **summary,
            "drifted_columns": self.drifted_columns,
            "share_of_drifted_columns": self.share_of_drifted_columns,
        }


def evidently_drift_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    columns: Sequence[str],
    sample_rows: int = 5000,
    seed: int = 0,
) -> DriftReport:
    """Run evidently's data drift preset on samples of both frames.

    Parameters
    ----------
    reference
        The data the model was trained or validated on.
    current
        The data to compare with it.
    columns
        The columns to test; each must be in both frames.
    sample_rows
        Largest number of rows taken from each frame.
    seed
        Seed of the samples.

    Returns
    -------
    DriftReport
        Evidently's HTML report and the per-column summary.

    Raises
    ------
    InvalidInputError
        When a frame is empty, ``columns`` is empty or names a column missing from
        a frame or without any value, or ``sample_rows`` is not positive.
    """
    names = _validate(reference, current, columns, sample_rows)
    reference_sample = deterministic_sample(reference[names], sample_rows, seed)
    current_sample = deterministic_sample(current[names], sample_rows, seed + 1)
    column_types = {name: _column_type(reference_sample[name]) for name in names}

    evidently = _import_evidently()
    snapshot = _run(evidently, reference_sample, current_sample, column_types)
    report = DriftReport(
        columns=_summarise(snapshot.dict(), column_types),
        reference_rows=len(reference_sample),
        current_rows=len(current_sample),
        sample_rows=sample_rows,
        seed=seed,
        evidently_version=evidently.__version__,
        html=snapshot.get_html_str(as_iframe=False),
    )
    logger.info(
        "Evidently drift report on %s reference and %s current rows: %s of %s "
        "columns drifted",
        report.reference_rows,
        report.current_rows,
        len(report.drifted_columns),
        len(report.columns),
    )
    return report


def save_html(report: DriftReport, path: Path) -> Path:
    """Write the report's HTML document to ``path``.

    Parameters
    ----------
    report
        The drift report.
    path
        File to write; its folder is created when missing.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report.html, encoding="utf-8")
    return path


def _validate(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: Sequence[str],
    sample_rows: int,
) -> list[str]:
    if sample_rows <= 0:
        raise InvalidInputError(f"sample_rows must be positive, got {sample_rows}.")
    names = list(columns)
    if not names:
        raise InvalidInputError("No columns to test; name at least one feature.")
    for label, frame in (("reference", reference), ("current", current)):
        if len(frame) == 0:
            raise InvalidInputError(
                f"The {label} data has no rows; compare against a non-empty sample."
            )
        absent = [name for name in names if name not in frame.columns]
        if absent:
            raise InvalidInputError(
                f"The {label} data lacks column(s) {', '.join(map(str, absent))}; "
                "test only columns present in both samples."
            )
        empty = [name for name in names if frame[name].isna().all()]
        if empty:
            raise InvalidInputError(
                f"Column(s) {', '.join(map(str, empty))} hold no value in the "
                f"{label} data; drop them from the columns to test."
            )
    return names


def deterministic_sample(frame: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    """A deterministic sample of at most ``rows`` rows, in their original order."""
    if len(frame) <= rows:
        return frame.reset_index(drop=True)
    positions = np.random.default_rng(seed).choice(len(frame), size=rows, replace=False)
    return frame.iloc[np.sort(positions)].reset_index(drop=True)


def _column_type(column: pd.Series) -> ColumnType:
    is_numeric = pd.api.types.is_numeric_dtype(column)
    if is_numeric and not pd.api.types.is_bool_dtype(column):
        return "numerical"
    return "categorical"


def _import_evidently() -> Any:
    # evidently's legacy modules touch numpy.core on import, which numpy 2
    # deprecates; the warning concerns evidently's code, not this console's.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        import evidently
        import evidently.presets

    return evidently


def _run(
    evidently: Any,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    column_types: dict[str, ColumnType],
) -> Any:
    definition = evidently.DataDefinition(
        numerical_columns=[
            n for n, kind in column_types.items() if kind == "numerical"
        ],
        categorical_columns=[
            n for n, kind in column_types.items() if kind == "categorical"
        ],
    )
    report = evidently.Report(
        [evidently.presets.DataDriftPreset(columns=list(column_types))],
        include_tests=True,
    )
    return report.run(
        evidently.Dataset.from_pandas(current, data_definition=definition),
        evidently.Dataset.from_pandas(reference, data_definition=definition),
    )


def _summarise(
    snapshot: dict[str, Any], column_types: dict[str, ColumnType]
) -> list[ColumnDrift]:
    # Each column's ValueDrift metric holds the test evidently chose and its score;
    # the test result bound to that metric (FAIL = drift) holds evidently's verdict.
    verdicts = {
        test["metric_config"]["metric_id"]: test["status"] == "FAIL"
        for test in snapshot["tests"]
    }
    found = {}
    for metric in snapshot["metrics"]:
        config = metric["config"]
        if not config["type"].endswith(":ValueDrift"):
            continue
        name, method = config["column"], config["method"]
        found[name] = ColumnDrift(
            column=name,
            column_type=column_types[name],
            method=method,
            score_kind="p_value" if "p_value" in method else "distance",
            score=float(metric["value"]),
            threshold=float(config["threshold"]),
            drifted=verdicts[metric["id"]],
        )
    return [found[name] for name in column_types]
