"""Figure builders of the drift page, asserted on the figures' data."""

import pytest

from governance.charts.drift import (
    FLAG_COLOURS,
    distribution_chart,
    drift_heatmap,
    empty_months,
    month_range,
    psi_bar_chart,
)
from governance.charts.theme import CURRENT_COLOUR, FAIL_COLOUR, REFERENCE_COLOUR

PSI = {"visits": 0.02, "lead_source": 0.57, "budget_aed": 0.39, "region": 0.12}
FLAGS = {
    "visits": "ok",
    "lead_source": "retrain",
    "budget_aed": "retrain",
    "region": "warn",
}


def test_psi_bars_put_the_most_drifted_feature_on_top():
    figure = psi_bar_chart(PSI, FLAGS, psi_warn=0.1, psi_retrain=0.25)

    (bars,) = figure.data
    assert list(bars.y) == ["visits", "region", "budget_aed", "lead_source"]
    assert list(bars.x) == [0.02, 0.12, 0.39, 0.57]
    assert list(bars.text) == ["0.020", "0.120", "0.390", "0.570"]


def test_psi_bars_are_coloured_by_flag():
    figure = psi_bar_chart(PSI, FLAGS, psi_warn=0.1, psi_retrain=0.25)

    colours = dict(zip(figure.data[0].y, figure.data[0].marker.color, strict=True))
    assert colours == {name: FLAG_COLOURS[flag] for name, flag in FLAGS.items()}
    assert colours["lead_source"] == FAIL_COLOUR


def test_psi_chart_draws_the_policy_thresholds():
    figure = psi_bar_chart(PSI, FLAGS, psi_warn=0.1, psi_retrain=0.25)

    lines = sorted((shape.x0, shape.x1) for shape in figure.layout.shapes)
    assert lines == [(0.1, 0.1), (0.25, 0.25)]
    labels = sorted(note.text for note in figure.layout.annotations)
    assert labels == ["retrain 0.25", "warn 0.1"]
    assert figure.layout.xaxis.range[1] == pytest.approx(0.57 * 1.2)


def test_psi_axis_reaches_past_the_retrain_line_when_nothing_drifted():
    figure = psi_bar_chart(
        {"visits": 0.01}, {"visits": "ok"}, psi_warn=0.1, psi_retrain=0.25
    )

    assert figure.layout.xaxis.range[1] == pytest.approx(0.25 * 1.2)


def test_distribution_chart_compares_reference_and_current_shares():
    distribution = {
        "labels": ["Web form", "Social media", "missing"],
        "reference_share": [0.7, 0.3, 0.0],
        "current_share": [0.4, 0.5, 0.1],
    }

    figure = distribution_chart(distribution, "lead_source")

    reference, current = figure.data
    assert (reference.name, current.name) == ("reference", "current")
    assert list(reference.x) == ["Web form", "Social media", "missing"]
    assert list(reference.y) == [0.7, 0.3, 0.0]
    assert list(current.y) == [0.4, 0.5, 0.1]
    assert (reference.marker.color, current.marker.color) == (
        REFERENCE_COLOUR,
        CURRENT_COLOUR,
    )
    assert figure.layout.title.text == "lead_source: share of rows per bin"


def test_heatmap_has_a_row_per_feature_and_a_column_per_month():
    windows = {
        "2026-10": {"visits": 0.01, "budget_aed": 0.4},
        "2026-09": {"visits": 0.03, "budget_aed": 0.38},
    }

    figure = drift_heatmap(windows, psi_warn=0.1, psi_retrain=0.25)

    (heatmap,) = figure.data
    assert list(heatmap.x) == ["2026-09", "2026-10"]
    assert list(heatmap.y) == ["visits", "budget_aed"]
    assert [list(row) for row in heatmap.z] == [[0.03, 0.01], [0.38, 0.4]]
    assert (heatmap.zmin, heatmap.zmax) == (0, 0.5)


def test_heatmap_colours_change_at_the_thresholds():
    figure = drift_heatmap(
        {"2026-09": {"visits": 0.01}}, psi_warn=0.1, psi_retrain=0.25
    )

    stops = [stop for stop, _ in figure.data[0].colorscale]
    assert stops == pytest.approx([0.0, 0.2, 0.2, 0.5, 0.5, 1.0])


def test_an_empty_month_is_a_blank_column_and_is_named():
    windows = {"2026-11": {"visits": 0.02}, "2027-01": {"visits": 0.05}}

    figure = drift_heatmap(windows, psi_warn=0.1, psi_retrain=0.25)

    assert list(figure.data[0].x) == ["2026-11", "2026-12", "2027-01"]
    assert list(figure.data[0].z[0]) == [0.02, None, 0.05]
    assert empty_months(windows) == ["2026-12"]


@pytest.mark.parametrize(
    ("windows", "expected"),
    [
        ({}, []),
        ({"2026-12": {}}, ["2026-12"]),
        ({"2026-12": {}, "2026-10": {}}, ["2026-10", "2026-11", "2026-12"]),
    ],
    ids=["none", "one", "gap"],
)
def test_month_range(windows, expected):
    assert month_range(windows) == expected
