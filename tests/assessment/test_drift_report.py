from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp, wasserstein_distance

from governance.assessment.drift_report import (
    DriftReport,
    evidently_drift_report,
    save_html,
)
from governance.errors import InvalidInputError

COLUMNS = ["budget", "visits", "source", "region"]
ROWS = 1500


def _frame(rng: np.random.Generator, *, shift: float, source_mix: list[float]):
    return pd.DataFrame(
        {
            "budget": rng.normal(shift, 1.0, ROWS),
            "visits": rng.normal(5.0, 2.0, ROWS),
            "source": rng.choice(["web", "event", "referral"], ROWS, p=source_mix),
            "region": rng.choice(["north", "south", "east", "west"], ROWS),
        }
    )


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return _frame(np.random.default_rng(1), shift=0.0, source_mix=[0.5, 0.3, 0.2])


@pytest.fixture(scope="module")
def current() -> pd.DataFrame:
    """Budget shifted by one standard deviation and the source mix changed."""
    return _frame(np.random.default_rng(2), shift=1.0, source_mix=[0.2, 0.3, 0.5])


@pytest.fixture(scope="module")
def report(reference: pd.DataFrame, current: pd.DataFrame) -> DriftReport:
    return evidently_drift_report(reference, current, columns=COLUMNS)


def test_drifted_columns_are_reported_and_unchanged_ones_are_not(
    report: DriftReport,
) -> None:
    verdicts = {column.column: column.drifted for column in report.columns}

    assert verdicts == {
        "budget": True,
        "visits": False,
        "source": True,
        "region": False,
    }
    assert report.drifted_columns == ["budget", "source"]
    assert report.share_of_drifted_columns == 0.5


def test_large_samples_use_distances_equal_to_scipys(
    report: DriftReport, reference: pd.DataFrame, current: pd.DataFrame
) -> None:
    by_column = {column.column: column for column in report.columns}
    budget = by_column["budget"]

    expected = wasserstein_distance(reference["budget"], current["budget"]) / np.std(
        reference["budget"]
    )

    assert budget.method == "Wasserstein distance (normed)"
    assert budget.score_kind == "distance"
    assert budget.score == pytest.approx(expected, rel=1e-12)
    assert budget.threshold == 0.1
    assert by_column["source"].method == "Jensen-Shannon distance"
    assert by_column["source"].column_type == "categorical"
    assert report.reference_rows == ROWS


def test_small_samples_use_ks_p_values_equal_to_scipys(
    reference: pd.DataFrame, current: pd.DataFrame
) -> None:
    small_reference, small_current = reference.head(300), current.head(300)

    report = evidently_drift_report(
        small_reference, small_current, columns=["budget", "visits"]
    )

    for column in report.columns:
        expected = ks_2samp(
            small_reference[column.column], small_current[column.column]
        )
        assert column.method == "K-S p_value"
        assert column.score_kind == "p_value"
        assert column.score == pytest.approx(expected.pvalue, rel=1e-9)
        assert column.drifted == bool(expected.pvalue <= 0.05)
    assert report.drifted_columns == ["budget"]


def test_sampling_is_deterministic_per_seed(
    reference: pd.DataFrame, current: pd.DataFrame
) -> None:
    def run(seed: int) -> dict:
        return evidently_drift_report(
            reference, current, columns=["budget"], sample_rows=400, seed=seed
        ).to_dict()

    first, again, other = run(3), run(3), run(4)

    assert first == again
    assert first["columns"][0]["score"] != other["columns"][0]["score"]
    assert first["reference_rows"] == first["current_rows"] == 400


def test_html_is_a_complete_document(report: DriftReport, tmp_path: Path) -> None:
    written = save_html(report, tmp_path / "reports" / "drift.html")

    text = written.read_text(encoding="utf-8")
    assert text == report.html
    assert text.lstrip().startswith("<!DOCTYPE html>")
    assert text.rstrip().endswith("</html>")


def test_summary_is_json_without_the_html(report: DriftReport) -> None:
    summary = json.loads(json.dumps(report.to_dict(), allow_nan=False))

    assert "html" not in summary
    assert summary["drifted_columns"] == ["budget", "source"]
    assert summary["share_of_drifted_columns"] == 0.5
    assert summary["evidently_version"].startswith("0.7")
    assert [column["column"] for column in summary["columns"]] == COLUMNS


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"current": pd.DataFrame(columns=COLUMNS)}, "current data has no rows"),
        ({"columns": []}, "at least one feature"),
        ({"columns": ["budget", "age"]}, "lacks column"),
        ({"sample_rows": 0}, "must be positive"),
        ({"current": pd.DataFrame({"budget": [np.nan] * 5})}, "hold no value"),
    ],
    ids=["empty-current", "no-columns", "missing-column", "no-rows", "all-missing"],
)
def test_bad_input_is_refused(
    change: dict, message: str, reference: pd.DataFrame, current: pd.DataFrame
) -> None:
    arguments = {"reference": reference, "current": current, "columns": ["budget"]}

    with pytest.raises(InvalidInputError, match=message):
        evidently_drift_report(**(arguments | change))
