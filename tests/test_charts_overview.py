"""Figure builders of the model overview: figure data, not pixels."""

from datetime import UTC, datetime, timedelta

import pytest

from governance.charts.overview import (
    LEVEL_COLOURS,
    risk_factors_figure,
    version_timeline_figure,
)
from governance.charts.theme import MUTED_COLOUR
from governance.errors import InvalidInputError
from governance.inventory import VersionRow


def _version(version, stage, days, risk_level):
    return VersionRow(
        id=int(version),
        version=version,
        stage=stage,
        algorithm="hist_gradient_boosting",
        run_id=None,
        model_uri=f"models:/lead-scoring/{version}",
        registered_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=days),
        registered_by="omar",
        risk_level=risk_level,
        last_assessed_at=None,
        data_spec={},
    )


@pytest.fixture
def versions():
    # Newest first, as list_versions returns them.
    return [
        _version("3", "risk_assessment", 30, "high"),
        _version("2", "production", 10, "low"),
        _version("1", "retired", 0, None),
    ]


def test_timeline_places_each_version_on_its_stage_in_time_order(versions):
    figure = version_timeline_figure(versions)

    trace = figure.data[0]
    assert list(trace.text) == ["v1", "v2", "v3"]
    assert list(trace.y) == ["Retired", "Production", "Risk assessment"]
    assert list(trace.x) == sorted(row.registered_at for row in versions)
    assert list(trace.marker.color) == [
        MUTED_COLOUR,
        LEVEL_COLOURS["low"],
        LEVEL_COLOURS["high"],
    ]
    assert figure.layout.yaxis.categoryarray[0] == "Development"


def test_timeline_of_no_versions_says_so():
    with pytest.raises(InvalidInputError, match="no versions"):
        version_timeline_figure([])


@pytest.fixture
def risk():
    return {
        "factors": {
            "data_quality": 0.22,
            "performance": 0.5,
            "bias": 1.0,
            "stability": 0.1,
            "security": 1.0,
        },
        "drivers": {"bias": "demographic parity difference 0.23 above 0.10"},
        "unassessed": ["security"],
        "score": 0.75,
        "level": "high",
    }


def test_risk_factors_draw_five_bars_coloured_by_band(risk, policy):
    figure = risk_factors_figure(risk, policy)

    bars = figure.data[0]
    assert len(bars.x) == 5
    # Drawn bottom-up, so the first factor is at the top.
    assert list(bars.y) == [
        "Security (not assessed)",
        "Stability",
        "Bias",
        "Performance",
        "Data quality",
    ]
    assert list(bars.x) == [1.0, 0.1, 1.0, 0.5, 0.22]
    assert list(bars.marker.color) == [
        LEVEL_COLOURS["high"],
        LEVEL_COLOURS["low"],
        LEVEL_COLOURS["high"],
        LEVEL_COLOURS["medium"],
        LEVEL_COLOURS["low"],
    ]
    assert bars.customdata[2] == "demographic parity difference 0.23 above 0.10"
    assert figure.layout.title.text == "Risk score 0.75: high risk"


def test_risk_band_edges_come_from_the_policy(risk, policy):
    figure = risk_factors_figure(risk, policy)

    edges = sorted(shape.x0 for shape in figure.layout.shapes)
    assert edges == [policy.risk.medium_from, policy.risk.high_above]


def test_risk_without_factors_says_so(policy):
    with pytest.raises(InvalidInputError, match="no risk factors"):
        risk_factors_figure({"factors": {}}, policy)
