"""Raising, listing and acknowledging alerts."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from sqlmodel import select

from governance.alert_tables import Alert, AlertDelivery
from governance.audit import unit_of_work, verify_chain
from governance.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from governance.operations.alerts import (
    ALERT_KINDS,
    acknowledge_alert,
    alerts_for_person,
    list_alerts,
    raise_alert,
)
from governance.settings import AlertChannels, SmtpChannel
from governance.store import read_session
from governance.tables import AuditEvent


@pytest.fixture
def no_channels(settings):
    return replace(settings, alert_channels=AlertChannels())


@pytest.fixture
def both_channels(settings):
    channels = AlertChannels(
        smtp=SmtpChannel(
            host="127.0.0.1",
            port=2525,
            sender="console@example.org",
            recipients=("risk@example.org", "ops@example.org"),
        ),
        webhook_url="https://hooks.example.org/services/T0/SECRET-TOKEN",
    )
    return replace(settings, alert_channels=channels)


def _raise(engine, settings, **overrides):
    fields = {
        "kind": "retraining_trigger",
        "severity": "high",
        "title": "PSI 0.31 on region",
        "body": "Drift above the retraining level.",
        "roles": ["data_scientist", "model_owner"],
        "source": "monitoring",
        "settings": settings,
    }
    fields.update(overrides)
    with unit_of_work(engine) as work:
        alert = raise_alert(work, **fields)
    return alert.id


def _events(engine, action):
    with read_session(engine) as session:
        return session.exec(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_raise_alert_stores_audits_and_queues_one_delivery_per_channel(
    engine, people, both_channels
):
    alert_id = _raise(engine, both_channels)

    with read_session(engine) as session:
        alert = session.get(Alert, alert_id)
        deliveries = session.exec(
            select(AlertDelivery).where(AlertDelivery.alert_id == alert_id)
        ).all()
    assert (alert.kind, alert.severity, alert.status) == (
        "retraining_trigger",
        "high",
        "open",
    )
    assert alert.roles == ["data_scientist", "model_owner"]
    assert alert.raised_by == "system"
    assert sorted((d.channel, d.status, d.attempts) for d in deliveries) == [
        ("email", "pending", 0),
        ("webhook", "pending", 0),
    ]
    destinations = {d.channel: d.destination for d in deliveries}
    assert destinations == {
        "email": "risk@example.org, ops@example.org",
        "webhook": "https://hooks.example.org",
    }
    (event,) = _events(engine, "alert.raised")
    payload = json.loads(event.payload)
    assert (event.entity_type, event.entity_id) == ("alert", str(alert_id))
    assert payload["channels"] == ["email", "webhook"]
    assert "SECRET-TOKEN" not in event.payload
    assert verify_chain(engine).is_intact


def test_without_a_channel_the_alert_is_stored_and_shown(engine, people, no_channels):
    alert_id = _raise(engine, no_channels, roles=["security_officer"], kind="security")

    shown = alerts_for_person(engine, people["security"])
    assert [view.id for view in shown] == [alert_id]
    assert shown[0].deliveries == ()
    assert alerts_for_person(engine, people["scientist"]) == []


def test_an_alert_rolls_back_with_the_change_that_raised_it(
    engine, people, no_channels
):
    def raise_then_fail():
        with unit_of_work(engine) as work:
            raise_alert(
                work,
                kind="incident",
                severity="low",
                title="t",
                body="b",
                roles=["ml_engineer"],
                settings=no_channels,
            )
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        raise_then_fail()

    assert list_alerts(engine) == []
    assert _events(engine, "alert.raised") == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("kind", "weather", "Unknown alert kind"),
        ("severity", "urgent", "Unknown alert severity"),
        ("roles", [], "at least one known role"),
        ("roles", ["janitor"], "at least one known role"),
        ("title", "   ", "title must have 1 to 200"),
        ("title", "x" * 201, "title must have 1 to 200"),
        ("body", "x" * 20_001, "at most 20000 characters"),
    ],
    ids=["kind", "severity", "no-role", "unknown-role", "blank", "long", "huge-body"],
)
def test_bad_alerts_are_refused_and_nothing_is_stored(
    engine, people, no_channels, field, value, message
):
    with pytest.raises(InvalidInputError, match=message):
        _raise(engine, no_channels, **{field: value})

    assert list_alerts(engine) == []


def test_every_kind_the_brief_names_is_allowed():
    assert {"retraining_trigger", "incident", "security", "review_overdue"} <= set(
        ALERT_KINDS
    )


def test_a_holder_of_one_of_the_alert_roles_acknowledges_it(
    engine, people, no_channels
):
    alert_id = _raise(engine, no_channels)

    acknowledge_alert(engine, actor_id=people["owner"], alert_id=alert_id)

    (view,) = list_alerts(engine)
    assert (view.status, view.acknowledged_by) == ("acknowledged", people["owner"])
    assert list_alerts(engine, open_only=True) == []
    assert alerts_for_person(engine, people["scientist"]) == []
    (event,) = _events(engine, "alert.acknowledged")
    assert (event.actor_id, event.entity_id) == (people["owner"], str(alert_id))
    with pytest.raises(ConflictError, match="already acknowledged by Owner"):
        acknowledge_alert(engine, actor_id=people["scientist"], alert_id=alert_id)


@pytest.mark.parametrize("who", ["engineer", "admin", "security"])
def test_someone_without_the_alert_roles_cannot_acknowledge_it(
    engine, people, no_channels, who
):
    alert_id = _raise(engine, no_channels)

    with pytest.raises(PermissionDeniedError, match="addressed to the Data scientist"):
        acknowledge_alert(engine, actor_id=people[who], alert_id=alert_id)

    (view,) = list_alerts(engine)
    assert view.status == "open"
    (denied,) = _events(engine, "access.denied")
    assert (denied.actor_id, denied.entity_type, denied.entity_id) == (
        people[who],
        "alert",
        str(alert_id),
    )
    assert json.loads(denied.payload)["attempted"] == "alert.acknowledge"


def test_acknowledging_an_unknown_alert_says_so(engine, people):
    with pytest.raises(NotFoundError, match="No alert with id 999"):
        acknowledge_alert(engine, actor_id=people["owner"], alert_id=999)


def test_the_list_command_shows_open_alerts_only_when_asked(
    engine, people, settings, no_channels, monkeypatch, capsys
):
    from governance.cli import main

    monkeypatch.setenv("GOVERNANCE_HOME", str(settings.home))
    monkeypatch.setenv("GOVERNANCE_DATABASE_URL", settings.database_url)
    done = _raise(engine, no_channels, title="Reviewed already")
    acknowledge_alert(engine, actor_id=people["owner"], alert_id=done)
    waiting = _raise(engine, no_channels, title="Still\nopen", kind="review_overdue")

    assert main(["alerts", "list", "--open"]) == 0
    open_only = capsys.readouterr().out
    assert main(["alerts", "list"]) == 0
    everything = capsys.readouterr().out

    assert f"#{waiting}" in open_only
    assert "review_overdue" in open_only
    assert "Still open  (for Data scientist, Model owner)" in open_only
    assert "Reviewed already" not in open_only
    assert "Reviewed already" in everything
    assert "acknowledged" in everything
