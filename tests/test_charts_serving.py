"""Figures of the shadow and canary page, from stored evidence metrics."""

import pytest

from governance.charts.serving import (
    agreement_chart,
    performance_chart,
    score_distribution_chart,
    selection_rate_chart,
)
from governance.charts.theme import FAIL_COLOUR, PASS_COLOUR

DISTRIBUTION = {
    "edges": [0.0, 0.25, 0.5, 0.75, 1.0],
    "series": {
        "version 2 (shadow)": [0.1, 0.2, 0.3, 0.4],
        "version 1 (production)": [0.4, 0.3, 0.2, 0.1],
    },
}


def test_score_distributions_are_drawn_per_group_at_bin_centres():
    figure = score_distribution_chart(DISTRIBUTION)

    assert [trace.name for trace in figure.data] == list(DISTRIBUTION["series"])
    assert list(figure.data[0].x) == [0.125, 0.375, 0.625, 0.875]
    assert list(figure.data[1].y) == [0.4, 0.3, 0.2, 0.1]
    assert figure.layout.barmode == "overlay"


def test_agreement_colours_agreeing_decisions_green():
    decisions = {
        "both_positive": 30,
        "candidate_only": 5,
        "baseline_only": 7,
        "both_negative": 58,
    }

    figure = agreement_chart(decisions, agreement=0.88, minimum=0.85)

    bar = figure.data[0]
    assert list(bar.y) == [30, 5, 7, 58]
    assert list(bar.marker.color) == [
        PASS_COLOUR,
        FAIL_COLOUR,
        FAIL_COLOUR,
        PASS_COLOUR,
    ]
    assert figure.layout.title.text == "Decision agreement 88.0% (policy minimum 85%)"


@pytest.mark.parametrize(
    "groups",
    [["version 2 (canary)", "rest (production)"], ["version 2 (canary)"]],
    ids=["against-the-rest", "outcomes-only"],
)
def test_performance_has_one_trace_per_group(groups):
    performance = {"rows": {group: 300 for group in groups}} | {
        group: {"auc": 0.9 - i / 10, "precision": 0.8, "recall": 0.7}
        for i, group in enumerate(groups)
    }

    figure = performance_chart(performance)

    assert [trace.name for trace in figure.data] == groups
    assert list(figure.data[0].y) == [0.9, 0.8, 0.7]
    assert list(figure.data[0].x) == ["AUC", "precision", "recall"]


def test_selection_rate_bars_in_stored_order():
    figure = selection_rate_chart(
        {"version 2 (canary)": 0.31, "rest (production)": 0.3}
    )

    assert list(figure.data[0].x) == ["version 2 (canary)", "rest (production)"]
    assert list(figure.data[0].y) == [0.31, 0.3]
    assert list(figure.data[0].text) == ["31.0%", "30.0%"]
