"""Figure builders of the fairness page: figure data, not pixels."""

import numpy as np
import pandas as pd
import pytest

from governance.assessment.fairness import ThresholdDisparities
from governance.charts.fairness import (
    disparity_curve_figure,
    group_rates_figure,
    threshold_grid,
)
from governance.errors import InvalidInputError
from governance.review import wilson_interval, with_intervals


@pytest.fixture
def groups():
    table = pd.DataFrame(
        {
            "count": [514, 521, 1],
            "positives": [62, 135, 1],
            "selection_rate": [0.037, 0.2668, 1.0],
            "true_positive_rate": [0.1129, 0.8963, 1.0],
            "false_positive_rate": [0.0265, 0.0466, 0.0],
            "is_too_small": [False, False, True],
        },
        index=["Africa", "Europe", "Oceania"],
    )
    return with_intervals(table)


def test_group_rates_have_one_bar_per_group_for_each_rate(groups):
    figure = group_rates_figure(groups)

    assert [trace.name for trace in figure.data] == [
        "Selection rate",
        "True positive rate",
        "False positive rate",
    ]
    for trace, rate in zip(
        figure.data,
        ["selection_rate", "true_positive_rate", "false_positive_rate"],
        strict=True,
    ):
        assert trace.type == "bar"
        assert len(trace.x) == 3
        assert list(trace.y) == list(groups[rate])
    assert list(figure.data[0].x) == [
        "Africa (n=514)",
        "Europe (n=521)",
        "Oceania (n=1, too small)",
    ]


def test_group_rate_error_bars_span_the_wilson_interval(groups):
    figure = group_rates_figure(groups)

    low, high = wilson_interval([round(0.037 * 514)], [514])
    bars = figure.data[0].error_y
    assert bars.array[0] == pytest.approx(high[0] - 0.037)
    assert bars.arrayminus[0] == pytest.approx(0.037 - low[0])


def test_too_small_groups_are_drawn_pale(groups):
    figure = group_rates_figure(groups)

    assert list(figure.data[0].marker.opacity) == [1.0, 1.0, 0.35]


def test_an_undefined_interval_draws_no_error_bar(groups):
    figure = group_rates_figure(groups)

    # Oceania has no actual negative: its false positive rate has no interval.
    assert figure.data[2].error_y.array[2] == 0.0


@pytest.mark.parametrize(
    "table",
    [pd.DataFrame(), pd.DataFrame({"count": [1]}, index=["a"])],
    ids=["empty", "no-rates"],
)
def test_group_rates_reject_a_table_without_rates(table):
    with pytest.raises(InvalidInputError, match="with_intervals"):
        group_rates_figure(table)


def test_disparity_curve_draws_both_differences_and_the_policy_line():
    disparities = ThresholdDisparities(
        thresholds=[0.0, 0.5, 1.0],
        demographic_parity_difference=[0.0, 0.23, 0.0],
        equalized_odds_difference=[0.0, 0.78, float("nan")],
    )

    figure = disparity_curve_figure(
        disparities, maximum=0.1, chosen_threshold=0.3, decision_threshold=0.48
    )

    assert [trace.name.split(" (")[0] for trace in figure.data] == [
        "Demographic parity difference",
        "Equalized odds difference",
    ]
    assert list(figure.data[0].y) == [0.0, 0.23, 0.0]
    assert list(figure.data[1].x) == [0.0, 0.5, 1.0]
    lines = {(shape.x0, shape.y0) for shape in figure.layout.shapes}
    assert (0, 0.1) in lines  # policy maximum, across the plot
    assert {shape.x0 for shape in figure.layout.shapes} >= {0.3, 0.48}


def test_threshold_grid_spans_zero_to_one():
    assert threshold_grid(5) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert np.all(np.diff(threshold_grid(101)) > 0)
    with pytest.raises(InvalidInputError):
        threshold_grid(1)
