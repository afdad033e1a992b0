"""The incidents page driven as the demo people would (AppTest, demo mode)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from governance.operations.incidents import get_incident, report_incident
from governance.store import read_session
from governance.tables import Incident
from tests.app_support import DEMO_IDS as DEMO
from tests.app_support import open_page
from tests.workflow.conftest import register

PAGE = "views/incidents.py"


@pytest.fixture
def version(app_store):
    engine, policy = app_store
    return register(engine, DEMO, policy)


def _click(app, key):
    app.button(key=key).click().run()
    assert not app.exception, app.exception
    return app


def _text(app, key, value):
    next(w for w in app.text_area if w.key == key).input(value)


def _incidents(engine):
    with read_session(engine) as session:
        return [(i.kind, i.severity, i.status) for i in session.exec(select(Incident))]


def test_report_an_incident_from_the_form(app_store, version):
    engine, _ = app_store
    app = open_page("layla", PAGE)

    app.selectbox(key="incident_kind").set_value("bias")
    app.selectbox(key="incident_severity").set_value("high")
    _text(app, "incident_description", "Approval rate for one region fell by half.")
    _text(app, "incident_links", "https://dash.example.org/fairness\nalert:3")
    _click(app, "FormSubmitter:incident_report-Report")

    assert [item.value for item in app.success] == ["Incident reported."]
    assert _incidents(engine) == [("bias", "high", "open")]
    (incident_id,) = [row for row in app.dataframe[0].value["Id"]]
    assert get_incident(engine, incident_id).evidence_links == (
        "https://dash.example.org/fairness",
        "alert:3",
    )


@pytest.mark.parametrize(
    ("description", "message"),
    [("", "description is empty"), ("z" * 5001, "limit is 5,000")],
    ids=["empty", "enormous"],
)
def test_a_bad_description_shows_why_and_saves_nothing(
    app_store, version, description, message
):
    engine, _ = app_store
    app = open_page("layla", PAGE)

    _text(app, "incident_description", description)
    _click(app, "FormSubmitter:incident_report-Report")

    assert any(message in item.value for item in app.error)
    assert _incidents(engine) == []


def test_work_a_playbook_to_closure(app_store, version):
    engine, policy = app_store
    incident_id = report_incident(
        engine,
        policy,
        actor_id=DEMO["owner"],
        model_version_id=version,
        kind="performance",
        severity="high",
        description="<b>AUC</b> fell to **0.70**",
    )
    app = open_page("priya", PAGE)
    assert "<b>AUC</b> fell to **0.70**" in [item.value for item in app.text]

    for step in policy.incidents.playbooks["performance"].steps:
        _text(app, "incident_step_note", f"{step}: done and written up.")
        _click(app, "incident_step_done")
        assert app.success[0].value.startswith("Step '")
    _text(app, "incident_close_note", "Resolved by retraining.")
    _click(app, "incident_close")

    assert [item.value for item in app.success] == [
        f"Incident {incident_id} closed.",
        "No open incidents.",
    ]
    assert get_incident(engine, incident_id).status == "closed"
    app.toggle(key="incident_show_closed").set_value(True).run()
    actions = list(app.dataframe[-1].value["What"])
    assert actions == [
        "incident.reported",
        *["incident.step_done"] * 5,
        "incident.closed",
    ]


def test_only_the_security_officer_sees_the_security_playbook_buttons(
    app_store, version
):
    engine, policy = app_store
    report_incident(
        engine,
        policy,
        actor_id=DEMO["engineer"],
        model_version_id=version,
        kind="security",
        severity="critical",
        description="Model artifact downloaded from an unknown address.",
    )

    engineer = open_page("priya", PAGE)
    officer = open_page("sofia", PAGE)

    assert [item.value for item in engineer.info] == [
        "Only the Security officer works this playbook."
    ]
    assert not [b for b in engineer.button if b.key == "incident_step_done"]
    assert officer.button(key="incident_step_done").label == "Mark 'Detect' done"


@pytest.mark.slow
@pytest.mark.xdist_group("demo")
def test_the_demo_incident_waits_at_its_fix_step(demo_home):
    app = open_page("priya", PAGE)

    assert app.selectbox(key="incident_selected").value == max(
        app.dataframe[0].value["Id"]
    )
    assert app.button(key="incident_step_done").label == "Mark 'Fix or roll back' done"
    assert app.button(key="incident_rollback").label == "Roll production back"
    calendar = open_page("priya", "views/calendar.py")
    statuses = set(calendar.dataframe[0].value["Status"])
    assert {"⚠ overdue", "✓ done", "due now", "next"} <= statuses


def test_roll_back_from_the_fix_step(app_store, monkeypatch):
    from tests.operations.test_incidents import in_production
    from tests.workflow.test_full_path import FakeRegistry

    engine, policy = app_store
    registry = FakeRegistry()
    monkeypatch.setattr(
        "governance.workflow.rollout.MlflowRegistryWriter", lambda _uri: registry
    )
    first, second = in_production(engine, DEMO, policy)
    incident_id = report_incident(
        engine,
        policy,
        actor_id=DEMO["owner"],
        model_version_id=second,
        kind="performance",
        severity="critical",
        description="Version 2 scores every lead 0.99.",
    )
    app = open_page("priya", PAGE)
    for note in ("Seen on the dashboard.", "A feature arrives as null."):
        _text(app, "incident_step_note", note)
        _click(app, "incident_step_done")

    _text(app, "incident_step_note", "Back to version 1 until the feed is fixed.")
    _click(app, "incident_rollback")

    assert app.success[0].value.startswith("Production rolled back")
    fix = get_incident(engine, incident_id).steps[2]
    assert fix.rollout_step_id is not None
    assert not fix.is_done
    assert registry.calls[0] == ("alias", "lead-scoring", "production", "1")
    assert not [b for b in app.button if b.key == "incident_rollback"]
    assert (
        app.dataframe[1].value["Rollback"][2] == f"rollout step {fix.rollout_step_id}"
    )
