"""The alerts widget and the inbox's Alerts section, driven as the demo people."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlmodel import select

from governance.access import revoke_role
from governance.alert_tables import AlertDelivery
from governance.audit import unit_of_work
from governance.operations.alerts import list_alerts, raise_alert
from governance.settings import AlertChannels, load_settings
from governance.store import read_session, write_session
from governance.tables import AuditEvent
from tests.app_support import app_home, open_page, person

INBOX = "views/inbox.py"
HOSTILE = '<script>alert("x")</script> **bold** [link](http://evil.example)'


@pytest.fixture
def app_store(tmp_path, monkeypatch):
    for name in ("GOVERNANCE_SMTP_HOST", "GOVERNANCE_ALERT_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    yield from app_home(tmp_path, monkeypatch)


def _raise(engine, *, roles, title, body="Open the drift page.", channels=None):
    settings = replace(load_settings(), alert_channels=channels or AlertChannels())
    with unit_of_work(engine) as work:
        alert = raise_alert(
            work,
            kind="retraining_trigger",
            severity="high",
            title=title,
            body=body,
            roles=roles,
            source="monitoring",
            settings=settings,
        )
    return alert.id


def _texts(app):
    return [element.value for element in app.main.text]


def test_the_inbox_shows_open_alerts_for_the_persons_roles_only(app_store):
    engine, _ = app_store
    _raise(engine, roles=["data_scientist"], title="PSI 0.31 on region")
    _raise(engine, roles=["security_officer"], title="Denied-action burst")

    app = open_page("omar", INBOX)

    assert [header.value for header in app.subheader][:2] == ["Alerts", "Work"]
    texts = _texts(app)
    assert "▲▲ HIGH · PSI 0.31 on region" in texts
    assert "Open the drift page." in texts
    assert not any("Denied-action burst" in text for text in texts)
    assert app.success[0].value == "Nothing waits for you."


def test_without_alerts_the_section_says_so(app_store):
    app = open_page("layla", INBOX)

    assert "No open alerts for your roles." in [c.value for c in app.main.caption]


def test_alert_text_is_shown_as_text_never_as_markup(app_store):
    engine, _ = app_store
    _raise(engine, roles=["data_scientist"], title=HOSTILE, body=HOSTILE)

    app = open_page("omar", INBOX)

    assert HOSTILE in _texts(app)
    assert f"▲▲ HIGH · {HOSTILE}" in _texts(app)
    assert not any("<script>" in item.value for item in app.main.markdown)


def test_acknowledging_an_alert_is_audited_and_removes_it(app_store):
    engine, _ = app_store
    alert_id = _raise(engine, roles=["data_scientist"], title="PSI 0.31 on region")
    app = open_page("omar", INBOX)

    app.button(key=f"inbox_alerts_ack_{alert_id}").click().run()

    assert not app.exception, app.exception
    assert app.success[0].value == f"Alert {alert_id} acknowledged."
    assert "No open alerts for your roles." in [c.value for c in app.main.caption]
    (alert,) = list_alerts(engine)
    assert (alert.status, alert.acknowledged_by) == ("acknowledged", person("omar"))
    with read_session(engine) as session:
        event = session.exec(
            select(AuditEvent).where(AuditEvent.action == "alert.acknowledged")
        ).one()
    assert event.actor_id == person("omar")


def test_a_role_revoked_before_the_click_takes_the_alert_away(app_store):
    engine, _ = app_store
    alert_id = _raise(engine, roles=["data_scientist"], title="PSI 0.31 on region")
    app = open_page("chen", INBOX)
    assert "▲▲ HIGH · PSI 0.31 on region" in _texts(app)
    revoke_role(
        engine, actor_id=person("admin"), user_id=person("chen"), role="data_scientist"
    )

    app.button(key=f"inbox_alerts_ack_{alert_id}").click().run()

    assert not app.exception, app.exception
    assert "▲▲ HIGH · PSI 0.31 on region" not in _texts(app)
    (alert,) = list_alerts(engine)
    assert alert.status == "open"


def test_delivery_failures_are_shown_with_their_error(app_store):
    engine, _ = app_store
    channels = AlertChannels(webhook_url="https://hooks.example.org/T/SECRET")
    alert_id = _raise(
        engine, roles=["data_scientist"], title="PSI 0.31", channels=channels
    )
    with write_session(engine) as session:
        delivery = session.exec(select(AlertDelivery)).one()
        delivery.status, delivery.attempts = "failed", 5
        delivery.last_error = "HTTP 500 Internal Server Error from the webhook"
        session.add(delivery)

    app = open_page("omar", INBOX)

    assert app.warning[0].value == (
        "1 of 1 alerts could not be delivered by e-mail or webhook; "
        "they are shown here only."
    )
    assert (
        "Delivery by webhook to https://hooks.example.org FAILED after 5 attempts: "
        "HTTP 500 Internal Server Error from the webhook"
    ) in _texts(app)
    assert not any("SECRET" in text for text in _texts(app))
    assert alert_id == list_alerts(engine)[0].id
