"""Figure and table builders of the data quality page."""

import pytest

from governance.charts.data_quality import (
    find_standard,
    missing_values_chart,
    pii_scan_rows,
    quality_chart,
    verdict_word,
)
from governance.charts.theme import FAIL_COLOUR, PASS_COLOUR

DATA = {
    "quality_score": 0.955,
    "completeness": 0.90,
    "validity": 1.0,
    "uniqueness": 0.97,
    "consistency": 0.95,
    "missing_share": {"visits": 0.0, "budget_aed": 0.2, "region": 0.05},
    "pii_findings": [
        {"column": "email", "kind": "email", "reason": "name", "share": 1.0},
        {"column": "notes", "kind": "phone", "reason": "values", "share": 0.62},
    ],
    "pii_in_features": ["notes"],
    "pii_elsewhere": ["email", "full_name"],
    "standards": [
        {"name": "training_rows", "value": 9000, "threshold": 10000, "passed": False},
    ],
}


def test_quality_chart_shows_the_score_and_its_four_parts_against_the_minimum():
    figure = quality_chart(DATA, min_quality_score=0.95)

    (bars,) = figure.data
    assert list(bars.x) == [
        "quality score",
        "completeness",
        "validity",
        "uniqueness",
        "consistency",
    ]
    assert list(bars.y) == [0.955, 0.90, 1.0, 0.97, 0.95]
    assert list(bars.marker.color) == [
        PASS_COLOUR,
        FAIL_COLOUR,
        PASS_COLOUR,
        PASS_COLOUR,
        PASS_COLOUR,
    ]
    (line,) = figure.layout.shapes
    assert (line.y0, line.y1) == (0.95, 0.95)
    assert figure.layout.yaxis.range[0] == pytest.approx(0.85)


def test_missing_values_are_sorted_with_the_most_missing_on_top():
    figure = missing_values_chart(DATA["missing_share"])

    (bars,) = figure.data
    assert list(bars.y) == ["visits", "region", "budget_aed"]
    assert list(bars.x) == [0.0, 0.05, 0.2]
    assert list(bars.text) == ["0.0%", "5.0%", "20.0%"]


def test_pii_scan_lists_declared_and_detected_columns_and_fails_features():
    rows = pii_scan_rows(
        DATA,
        declared=["full_name", "email"],
        features=["visits", "notes"],
        pii_in_features_allowed=False,
    )

    assert rows == [
        {
            "Column": "full_name",
            "Kind": "declared",
            "Found by": "declared",
            "Used as feature": "no",
            "Result": "listed",
        },
        {
            "Column": "email",
            "Kind": "email",
            "Found by": "declared, column name",
            "Used as feature": "no",
            "Result": "listed",
        },
        {
            "Column": "notes",
            "Kind": "phone",
            "Found by": "values (62% of a sample)",
            "Used as feature": "yes",
            "Result": "fail",
        },
    ]


def test_pii_in_features_passes_when_the_policy_allows_it():
    rows = pii_scan_rows(
        DATA, declared=[], features=["notes"], pii_in_features_allowed=True
    )

    assert {row["Column"]: row["Result"] for row in rows}["notes"] == "listed"


def test_pii_scan_is_empty_without_personal_data():
    assert (
        pii_scan_rows(
            {}, declared=[], features=["visits"], pii_in_features_allowed=False
        )
        == []
    )


def test_find_standard_returns_the_row_or_nothing():
    assert find_standard(DATA["standards"], "training_rows")["value"] == 9000
    assert find_standard(DATA["standards"], "pii_in_features") == {}


@pytest.mark.parametrize(
    ("passed", "word"),
    [(True, "pass"), (False, "fail"), (None, "not assessed")],
    ids=["pass", "fail", "none"],
)
def test_verdict_word(passed, word):
    assert verdict_word(passed) == word
