"""Figure builders of the explanations page: figure data, not pixels."""

import numpy as np
import pandas as pd
import pytest

from governance.charts.explanations import (
    dependence_figure,
    importance_figure,
    waterfall_figure,
)
from governance.errors import InvalidInputError


@pytest.fixture
def contributions():
    return pd.Series(
        [0.5, -2.0, 0.05, 1.25, -0.1],
        index=pd.Index(
            ["lead_source", "budget_aed", "gender", "meetings_attended", "visas"],
            name="feature",
        ),
        name="L000054",
    )


def test_importance_lists_the_largest_first_at_the_top():
    importance = pd.Series({"a": 0.1, "b": 2.0, "c": 0.5, "d": 0.0})

    figure = importance_figure(importance, top=3)

    bars = figure.data[0]
    assert list(bars.y) == ["a", "c", "b"]  # plotly draws the first bar lowest
    assert list(bars.x) == [0.1, 0.5, 2.0]


def test_importance_of_nothing_says_so():
    with pytest.raises(InvalidInputError, match="empty"):
        importance_figure(pd.Series(dtype=float))


def test_waterfall_steps_sum_with_the_base_value_to_the_output(contributions):
    figure = waterfall_figure(contributions, base_value=-3.4, output_space="log_odds")

    trace = figure.data[0]
    assert list(trace.measure) == ["absolute", *["relative"] * 5, "total"]
    assert trace.x[0] == -3.4
    assert trace.x[-1] == pytest.approx(-3.4 + contributions.sum())
    assert sum(trace.x[:-1]) == pytest.approx(trace.x[-1])
    assert list(trace.y[1:3]) == ["budget_aed", "meetings_attended"]  # by |value|


def test_waterfall_sums_the_smallest_into_one_step(contributions):
    figure = waterfall_figure(
        contributions, base_value=0.2, output_space="probability", max_features=2
    )

    trace = figure.data[0]
    assert list(trace.y) == [
        "Base value",
        "budget_aed",
        "meetings_attended",
        "3 other features",
        "Model output",
    ]
    assert trace.x[3] == pytest.approx(0.5 + 0.05 - 0.1)
    assert sum(trace.x[:-1]) == pytest.approx(trace.x[-1])


def test_waterfall_labels_show_the_feature_values(contributions):
    values = pd.Series(
        {
            "lead_source": "Event",
            "budget_aed": 13000.0,
            "gender": "•••",
            "meetings_attended": 2,
            "visas": 0.5,
        }
    )

    figure = waterfall_figure(
        contributions, base_value=0.0, output_space="log_odds", feature_values=values
    )

    assert list(figure.data[0].y[1:6]) == [
        "budget_aed = 13,000",
        "meetings_attended = 2",
        "lead_source = Event",
        "visas = 0.5",
        "gender = •••",
    ]


@pytest.mark.parametrize("max_features", [0, -1], ids=["zero", "negative"])
def test_waterfall_rejects_no_steps(contributions, max_features):
    with pytest.raises(InvalidInputError, match="max_features"):
        waterfall_figure(
            contributions,
            base_value=0.0,
            output_space="log_odds",
            max_features=max_features,
        )


def test_dependence_plots_value_against_shap_value():
    values = pd.Series([0, 1, 2, 3], name="meetings_attended")
    shap_values = np.array([-2.0, 1.5, 2.5, 3.0])

    figure = dependence_figure(values, shap_values, output_space="log_odds")

    assert list(figure.data[0].x) == [0, 1, 2, 3]
    assert list(figure.data[0].y) == [-2.0, 1.5, 2.5, 3.0]
    assert figure.layout.xaxis.title.text == "meetings_attended"
    assert figure.layout.yaxis.title.text == "SHAP value (log-odds)"


def test_dependence_of_a_categorical_feature_uses_its_categories():
    values = pd.Series(["Event", "Web form"], name="lead_source", dtype="category")

    figure = dependence_figure(values, np.array([0.1, -0.2]), output_space="log_odds")

    assert list(figure.data[0].x) == ["Event", "Web form"]


def test_dependence_rejects_mismatched_lengths():
    with pytest.raises(InvalidInputError, match="one of each"):
        dependence_figure(
            pd.Series([1, 2], name="x"), np.array([0.1]), output_space="log_odds"
        )
