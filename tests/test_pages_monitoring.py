"""The monitoring page driven as the demo people would (AppTest, demo mode)."""

from datetime import UTC, datetime

import numpy as np
import pytest
from sqlmodel import select

from governance.operations.monitoring import run_monitoring, set_log_location
from governance.operations_tables import RetrainingRequest
from governance.settings import load_settings
from governance.store import read_session
from tests.app_support import app_home, open_page, person
from tests.operations.monitoring_support import (
    month_of_predictions,
    version_in_production,
    write_log,
)
from tests.workflow.conftest import register

PAGE = "views/monitoring.py"
PEOPLE = {"scientist": person("omar"), "owner": person("layla")}


@pytest.fixture
def monitored(tmp_path, monkeypatch):
    """lead-scoring 1 in production with two monitored months, the second drifted."""
    for engine, policy in app_home(tmp_path, monkeypatch):
        version_in_production(engine, PEOPLE, policy, tmp_path)
        rng = np.random.default_rng(5)
        log = write_log(
            tmp_path / "log.csv",
            month_of_predictions(rng, datetime(2026, 2, 1, tzinfo=UTC), 600),
            month_of_predictions(
                rng, datetime(2026, 3, 1, tzinfo=UTC), 600, visits_mean=9.0
            ),
        )
        set_log_location(
            engine, actor_id=person("priya"), model_name="lead-scoring", location=log
        )
        run_monitoring(
            load_settings(),
            engine,
            policy,
            actor_id=person("priya"),
            now=datetime(2026, 4, 2, tzinfo=UTC),
        )
        yield engine, policy, log


def _chart_titles(app):
    return [chart.proto.spec for chart in app.get("plotly_chart")]


def test_an_ml_engineer_sees_the_months_and_can_run_monitoring(monitored):
    app = open_page("priya", PAGE)

    assert len(app.get("plotly_chart")) == 4
    assert any("2026-03" in spec and "PSI" in spec for spec in _chart_titles(app))
    assert app.button(key="mon_run") is not None
    assert app.text_input(key="mon_log").value == monitored[2]
    assert any(
        "Request 1 for version 1: **open**" in item.value for item in app.markdown
    )
    table = app.dataframe[0].value
    assert list(table["Trigger"]) == ["Data drift"]
    assert list(table["Window"]) == ["2026-03"]


def test_running_again_from_the_page_adds_nothing(monitored):
    app = open_page("priya", PAGE)

    app.button(key="mon_run").click().run()

    assert not app.exception
    assert app.success[-1].value.startswith("Monitoring ran: 0 window(s) scored")
    assert any("2 already stored" in item.value for item in app.text)


def test_someone_without_the_run_permission_sees_no_button(monitored):
    for username in ("omar", "sofia"):
        app = open_page(username, PAGE)

        assert not [b for b in app.button if b.key == "mon_run"]
        assert not [t for t in app.text_input if t.key == "mon_log"]
        assert len(app.get("plotly_chart")) == 4


def test_a_data_scientist_links_the_retrained_version(monitored):
    engine, policy, _ = monitored
    register(
        engine, PEOPLE, policy, version="2", train={"rows": 12000, "sha256": "b" * 64}
    )
    app = open_page("omar", PAGE)

    app.button(key="mon_link").click().run()

    with read_session(engine) as session:
        request = session.exec(select(RetrainingRequest)).one()
    assert not app.exception
    assert request.linked_by == person("omar")
    assert any("Version 2 linked" in item.value for item in app.success)


def test_the_model_owner_declines_with_a_reason_and_not_without(monitored):
    engine, _, _ = monitored
    app = open_page("layla", PAGE)

    app.button(key="mon_decline").click().run()
    refused = [item.value for item in app.error]
    app.text_area(key="mon_decline_reason").input(
        "Drift is seasonal; watch one more month."
    )
    app.button(key="mon_decline").click().run()

    with read_session(engine) as session:
        request = session.exec(select(RetrainingRequest)).one()
    assert "reason for declining is empty" in refused[0]
    assert request.status == "declined"
    assert request.close_reason == "Drift is seasonal; watch one more month."


def test_the_page_explains_an_unmonitored_model(tmp_path, monkeypatch):
    for engine, policy in app_home(tmp_path, monkeypatch):
        version_in_production(engine, PEOPLE, policy, tmp_path)

        app = open_page("priya", PAGE)

        assert "No production window of lead-scoring" in app.info[-1].value
        assert app.text_input(key="mon_log").value == ""
