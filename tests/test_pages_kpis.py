"""The governance KPIs page (AppTest, demo mode): its charts are the KPI series."""

import json
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from governance.access import SYSTEM_USER_ID
from governance.audit import unit_of_work
from governance.records.kpis import governance_kpis, period_start
from governance.tables import Incident, ModelVersion
from tests.app_support import open_page, person
from tests.records.test_kpis import _seed

KPIS = "views/kpis.py"


@pytest.fixture
def records(app_store):
    """The KPI test records, and one bias incident reported now."""
    engine, _ = app_store
    _seed(engine, person("layla"))
    with unit_of_work(engine) as work:
        version = work.session.exec(select(ModelVersion)).first()
        work.session.add(
            Incident(
                model_version_id=version.id,
                kind="bias",
                severity="high",
                description="d",
                reported_by=person("daniel"),
            )
        )
        work.record(
            actor_id=SYSTEM_USER_ID,
            action="test.incident_added",
            entity_type="incident",
            entity_id="now",
        )
    return engine


def _charts(app):
    return [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]


@pytest.mark.parametrize("months", [12, 24])
def test_charts_show_the_kpi_series(records, months):
    today = datetime.now(UTC).date()
    expected = governance_kpis(records, start=period_start(today, months), end=today)

    app = open_page("daniel", KPIS, kpi_months=months)

    cycle, compliance, incidents, stability = _charts(app)
    assert cycle["data"][0]["y"] == [row.median_days for row in expected.cycle_time]
    assert compliance["data"][0]["y"] == [row.rate for row in expected.compliance]
    counts = {trace["name"].lower(): trace["y"] for trace in incidents["data"]}
    assert counts == expected.incident_counts()
    assert counts["bias"][-1] == 1
    assert [len(trace["y"]) for trace in stability["data"]] == [
        len({r.month for r in expected.stability if r.model_name == name})
        for name in sorted({r.model_name for r in expected.stability})
    ]
    ranges = app.dataframe[0].value
    assert list(ranges["Model"]) == ["lead-scoring", "renewal"]
    assert list(ranges["Windows"]) == [r.windows for r in expected.stability_overall]
    assert list(ranges["Relative spread"]) == pytest.approx(
        [r.relative_spread for r in expected.stability_overall]
    )


def test_an_empty_store_says_what_is_missing(app_store):
    app = open_page("layla", KPIS)

    charts = _charts(app)
    assert len(charts) == 4
    notes = [chart["layout"]["annotations"][0]["text"] for chart in charts]
    assert notes == [
        "No approval decisions in these months.",
        "No assessments in these months.",
        "No incidents in these months.",
        "No measured production windows in these months.",
    ]
    assert "No production monitoring window" in app.main.info[0].value


def test_the_page_states_the_compliance_rate_definition(app_store):
    app = open_page("omar", KPIS)

    captions = " ".join(caption.value for caption in app.main.caption)
    assert "last assessment that month passed every standard" in captions
