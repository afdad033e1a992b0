"""Refused actions are recorded; monitoring finds their bursts and a broken chain."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from governance.access import grant_role, roles_of
from governance.audit import note_attempt, unit_of_work, verify_chain
from governance.errors import InvalidInputError, PermissionDeniedError
from governance.operations.security_signals import (
    DeniedBurst,
    largest_burst,
    security_signals,
)
from governance.store import read_session
from governance.tables import AuditEvent, RoleAssignment
from governance.workflow.permissions import require_permission

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def _denials(engine):
    with read_session(engine) as session:
        return session.exec(
            select(AuditEvent)
            .where(AuditEvent.action == "access.denied")
            .order_by(AuditEvent.seq)
        ).all()


def _window():
    now = datetime.now(UTC)
    return now - timedelta(hours=1), now + timedelta(hours=1)


def test_a_refused_action_is_recorded_and_its_change_is_not(engine, people):
    with pytest.raises(PermissionDeniedError, match="needs the role Administrator"):
        grant_role(
            engine,
            actor_id=people["scientist"],
            user_id=people["scientist"],
            role="model_owner",
        )

    with read_session(engine) as session:
        assert roles_of(session, people["scientist"]) == {"data_scientist"}
    (denied,) = _denials(engine)
    payload = json.loads(denied.payload)
    assert denied.actor_id == people["scientist"]
    assert payload["attempted"] == "role:admin"
    assert "needs the role Administrator" in payload["message"]
    assert verify_chain(engine).is_intact


def test_a_change_made_before_the_refusal_is_rolled_back(engine, people):
    def grant_then_refuse():
        with unit_of_work(engine) as work:
            work.session.add(
                RoleAssignment(
                    user_id=people["engineer"],
                    role="security_officer",
                    granted_by=people["engineer"],
                )
            )
            work.session.flush()
            note_attempt(
                work.session,
                actor_id=people["engineer"],
                action="rollout.rollback",
                entity_type="model_version",
                entity_id="7",
            )
            require_permission(work.session, people["compliance"], "rollout.rollback")

    with pytest.raises(PermissionDeniedError, match="cannot rollout rollback"):
        grant_then_refuse()

    with read_session(engine) as session:
        assert roles_of(session, people["engineer"]) == {"ml_engineer"}
        events = session.exec(select(AuditEvent).order_by(AuditEvent.seq)).all()
    denied = events[-1]
    assert denied.action == "access.denied"
    # The permission check is the last attempt noted: it names the actor refused.
    assert (denied.actor_id, json.loads(denied.payload)["attempted"]) == (
        people["compliance"],
        "rollout.rollback",
    )
    assert verify_chain(engine).is_intact


def test_an_error_other_than_a_refusal_records_nothing(engine, people):
    before = len(_denials(engine))

    with pytest.raises(InvalidInputError):
        grant_role(
            engine, actor_id=people["admin"], user_id=people["owner"], role="wizard"
        )

    assert len(_denials(engine)) == before


def test_refusals_of_one_actor_in_quick_succession_are_a_burst(engine, people, policy):
    rules = policy.monitoring
    for _ in range(rules.denied_burst_count):
        with pytest.raises(PermissionDeniedError):
            grant_role(
                engine, actor_id=people["owner"], user_id=people["owner"], role="admin"
            )
    with pytest.raises(PermissionDeniedError):
        grant_role(
            engine, actor_id=people["engineer"], user_id=people["owner"], role="admin"
        )
    start, end = _window()

    signals = security_signals(engine, policy, start, end)

    assert signals.denied_count == rules.denied_burst_count + 1
    assert signals.largest_burst.actor_id == people["owner"]
    assert signals.largest_burst.count == rules.denied_burst_count
    assert signals.has_burst
    assert signals.chain_intact
    assert signals.first_bad_seq is None
    assert signals.needs_attention
    assert f"refused {rules.denied_burst_count} times" in signals.describe()


def test_one_refusal_fewer_than_the_policy_count_is_not_a_burst(engine, people, policy):
    for _ in range(policy.monitoring.denied_burst_count - 1):
        with pytest.raises(PermissionDeniedError):
            grant_role(
                engine, actor_id=people["owner"], user_id=people["owner"], role="admin"
            )
    start, end = _window()

    signals = security_signals(engine, policy, start, end)

    assert signals.largest_burst.count == policy.monitoring.denied_burst_count - 1
    assert not signals.has_burst
    assert not signals.needs_attention


def test_refusals_outside_the_window_are_not_counted(engine, people, policy):
    with pytest.raises(PermissionDeniedError):
        grant_role(
            engine, actor_id=people["owner"], user_id=people["owner"], role="admin"
        )
    later = datetime.now(UTC) + timedelta(hours=1)

    signals = security_signals(engine, policy, later, later + timedelta(hours=1))

    assert signals.denied_count == 0
    assert signals.largest_burst is None
    assert not signals.needs_attention


def test_a_broken_chain_is_a_signal_with_its_first_bad_sequence_number(
    engine, people, policy
):
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER audit_event_refuse_update"))
        else:
            connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        connection.exec_driver_sql(
            "UPDATE audit_event SET actor_id = 'mallory' WHERE seq = 3"
        )
    start, end = _window()

    signals = security_signals(engine, policy, start, end)

    assert not signals.chain_intact
    assert signals.first_bad_seq == 3
    assert signals.needs_attention
    assert "broken at sequence number 3" in signals.describe()


def test_a_window_that_ends_before_it_starts_is_refused(engine, policy):
    with pytest.raises(InvalidInputError, match="ends .* before it starts"):
        security_signals(engine, policy, T0, T0 - timedelta(minutes=1))


def _at(*minutes, actor="u-a"):
    return [(actor, T0 + timedelta(minutes=m)) for m in minutes]


@pytest.mark.parametrize(
    ("denials", "expected"),
    [
        ([], None),
        (_at(0), DeniedBurst("u-a", 1, T0, T0)),
        (
            _at(0, 3, 10),
            DeniedBurst("u-a", 3, T0, T0 + timedelta(minutes=10)),
        ),
        (
            _at(0, 3, 10.5, 11),
            DeniedBurst(
                "u-a", 3, T0 + timedelta(minutes=3), T0 + timedelta(minutes=11)
            ),
        ),
        (
            _at(0, 1, actor="u-a") + _at(2, 3, 4, actor="u-b"),
            DeniedBurst("u-b", 3, T0 + timedelta(minutes=2), T0 + timedelta(minutes=4)),
        ),
    ],
    ids=["none", "one", "window-edge-inclusive", "slides", "per-actor"],
)
def test_largest_burst_slides_a_window_over_each_actor(denials, expected):
    assert largest_burst(denials, timedelta(minutes=10)) == expected
