"""Figure builders of the governance KPIs: their data equals the KPI series."""

from dataclasses import replace

import pytest

from governance.charts.kpis import (
    compliance_rate_figure,
    cycle_time_figure,
    incident_frequency_figure,
    stability_figure,
)
from governance.records.kpis import (
    ComplianceMonth,
    CycleTimeMonth,
    GovernanceKpis,
    IncidentMonth,
    StabilityMonth,
)

MONTHS = ("2026-01", "2026-02", "2026-03")


@pytest.fixture
def kpis():
    return GovernanceKpis(
        months=MONTHS,
        cycle_time=(
            CycleTimeMonth("2026-01", 4, 3.25, 4.375),
            CycleTimeMonth("2026-03", 1, 2.0, 2.0),
        ),
        compliance=(
            ComplianceMonth("2026-01", 2, 1),
            ComplianceMonth("2026-02", 3, 2),
        ),
        incidents=(
            IncidentMonth("2026-01", "bias", 1),
            IncidentMonth("2026-01", "performance", 2),
            IncidentMonth("2026-03", "security", 1),
        ),
        stability=(
            StabilityMonth("lead-scoring", 3, 0.76, 0.80, 0.78, month="2026-01"),
            StabilityMonth("lead-scoring", 2, 0.75, 0.81, 0.78, month="2026-02"),
            StabilityMonth("renewal", 1, 0.70, 0.70, 0.70, month="2026-02"),
        ),
    )


@pytest.fixture
def empty():
    return GovernanceKpis(MONTHS, (), (), (), ())


def test_cycle_time_bars_are_the_median_and_the_line_the_mean(kpis):
    median, mean = cycle_time_figure(kpis).data

    assert (median.name, list(median.x)) == ("Median", ["2026-01", "2026-03"])
    assert list(median.y) == [3.25, 2.0]
    assert list(median.customdata) == [4, 1]
    assert (mean.name, list(mean.y)) == ("Mean", [4.375, 2.0])


def test_cycle_time_axis_spans_the_longest_and_at_least_a_day(kpis):
    axis = cycle_time_figure(kpis).layout.yaxis
    same_hour = replace(
        kpis,
        cycle_time=(replace(kpis.cycle_time[0], median_days=2e-7, mean_days=3e-7),),
    )
    short = cycle_time_figure(same_hour).layout.yaxis

    assert list(axis.range) == [0, pytest.approx(1.1 * 4.375)]
    assert list(short.range) == [0, pytest.approx(1.1)]
    assert axis.tickformat == short.tickformat == ",.1~f"


def test_compliance_bars_are_the_rates(kpis):
    (bars,) = compliance_rate_figure(kpis).data

    assert list(bars.x) == ["2026-01", "2026-02"]
    assert list(bars.y) == [0.5, pytest.approx(2 / 3)]
    assert [list(pair) for pair in bars.customdata] == [[1, 2], [2, 3]]


def test_incident_bars_stack_every_kind_over_every_month(kpis):
    figure = incident_frequency_figure(kpis)

    assert figure.layout.barmode == "stack"
    assert {trace.name: list(trace.y) for trace in figure.data} == {
        "Bias": [1, 0, 0],
        "Performance": [2, 0, 0],
        "Security": [0, 0, 1],
    }
    assert all(list(trace.x) == list(MONTHS) for trace in figure.data)


def test_stability_lines_are_the_mean_auc_with_its_range(kpis):
    figure = stability_figure(kpis)

    lines = {trace.name: trace for trace in figure.data}
    assert set(lines) == {"lead-scoring", "renewal"}
    scoring = lines["lead-scoring"]
    assert list(scoring.x) == ["2026-01", "2026-02"]
    assert list(scoring.y) == [0.78, 0.78]
    assert list(scoring.error_y.array) == [pytest.approx(0.02), pytest.approx(0.03)]
    assert list(scoring.error_y.arrayminus) == [
        pytest.approx(0.02),
        pytest.approx(0.03),
    ]
    assert list(scoring.customdata[1]) == [2, 0.75, 0.81, pytest.approx(0.06)]
    assert list(lines["renewal"].y) == [0.70]


@pytest.mark.parametrize(
    "build",
    [
        cycle_time_figure,
        compliance_rate_figure,
        incident_frequency_figure,
        stability_figure,
    ],
    ids=["cycle-time", "compliance", "incidents", "stability"],
)
def test_an_empty_series_says_so(empty, build):
    figure = build(empty)

    assert len(figure.layout.annotations) == 1
    assert figure.layout.annotations[0].text.startswith("No ")
