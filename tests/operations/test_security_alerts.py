"""A monitoring run alerts the security officer of refusal bursts and a broken trail.

Once per finding: a rerun, or a burst that goes on, raises nothing new.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from governance.access import SYSTEM_USER_ID, grant_role
from governance.alert_tables import Alert
from governance.errors import PermissionDeniedError
from governance.operations.alerts import alerts_for_person, list_alerts
from governance.operations.monitoring import run_monitoring
from governance.operations.security_alerts import (
    Denial,
    raise_security_alerts,
    refusal_episodes,
)
from governance.records.checkpoints import write_checkpoint
from governance.store import read_session
from tests.records.audit_support import append, rewrite_from, tamper

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def _refuse(engine, people, times, *, who="owner"):
    """``times`` refused attempts by ``who`` to make themselves administrator."""
    for _ in range(times):
        with pytest.raises(PermissionDeniedError):
            grant_role(engine, actor_id=people[who], user_id=people[who], role="admin")


def _monitor(settings, engine, policy, **kwargs):
    return run_monitoring(settings, engine, policy, actor_id=SYSTEM_USER_ID, **kwargs)


def _security_alerts(engine):
    return [alert for alert in list_alerts(engine) if alert.kind == "security"]


def test_a_burst_at_the_policy_count_alerts_the_security_officer(
    settings, engine, people, policy
):
    count = policy.monitoring.denied_burst_count
    _refuse(engine, people, count)

    report = _monitor(settings, engine, policy)

    (alert,) = _security_alerts(engine)
    assert alert.severity == "high"
    assert alert.roles == ("security_officer",)
    assert alert.title == f"Burst of refused actions by user {people['owner']}"
    assert f"refused {count} times within 10 minutes" in alert.body
    assert f"the policy flags {count}" in alert.body
    assert alert.source.startswith(f"monitoring:denied-burst:{people['owner']}:")
    assert [view.id for view in alerts_for_person(engine, people["security"])] == [
        alert.id
    ]
    assert alerts_for_person(engine, people["owner"]) == []
    assert report.security == [f"{alert.title}: alert {alert.id} raised."]
    assert f"SECURITY {alert.title}: alert {alert.id} raised." in report.lines()


def test_one_refusal_fewer_than_the_count_raises_nothing(
    settings, engine, people, policy
):
    _refuse(engine, people, policy.monitoring.denied_burst_count - 1)

    report = _monitor(settings, engine, policy)

    assert _security_alerts(engine) == []
    assert report.security == []


def test_refusals_of_different_people_do_not_add_up(settings, engine, people, policy):
    count = policy.monitoring.denied_burst_count
    _refuse(engine, people, count - 1, who="owner")
    _refuse(engine, people, count - 1, who="scientist")

    _monitor(settings, engine, policy)

    assert _security_alerts(engine) == []


def test_a_rerun_and_a_burst_that_goes_on_raise_no_second_alert(
    settings, engine, people, policy
):
    count = policy.monitoring.denied_burst_count
    _refuse(engine, people, count)
    _monitor(settings, engine, policy)

    again = _monitor(settings, engine, policy)
    _refuse(engine, people, 2)
    later = _monitor(settings, engine, policy)

    (alert,) = _security_alerts(engine)
    assert again.security == [f"{alert.title} (alert {alert.id}, raised earlier)."]
    assert later.security == again.security


def test_a_burst_older_than_one_window_is_left_to_earlier_runs(
    settings, engine, people, policy
):
    _refuse(engine, people, policy.monitoring.denied_burst_count)
    months_later = datetime.now(UTC) + timedelta(days=32)

    report = _monitor(settings, engine, policy, now=months_later)

    assert report.security == []
    assert _security_alerts(engine) == []


def test_a_tampered_chain_alerts_with_its_first_bad_sequence_number(
    settings, engine, people, policy
):
    tamper(engine, "UPDATE audit_event SET actor_id = 'mallory' WHERE seq = 3")

    first = _monitor(settings, engine, policy)
    rerun = _monitor(settings, engine, policy)

    (alert,) = _security_alerts(engine)
    assert alert.severity == "critical"
    assert alert.roles == ("security_officer", "compliance_officer")
    assert alert.title == "Audit trail fails verification at sequence number 3"
    assert "the event was altered" in alert.body
    assert alert.source == "monitoring:audit-chain:3"
    assert first.security == [f"{alert.title}: alert {alert.id} raised."]
    assert rerun.security == [f"{alert.title} (alert {alert.id}, raised earlier)."]


def test_another_break_earlier_in_the_chain_is_a_new_finding(
    settings, engine, people, policy
):
    tamper(engine, "UPDATE audit_event SET actor_id = 'mallory' WHERE seq = 5")
    _monitor(settings, engine, policy)
    tamper(engine, "UPDATE audit_event SET actor_id = 'mallory' WHERE seq = 2")

    _monitor(settings, engine, policy)

    titles = sorted(alert.title for alert in _security_alerts(engine))
    assert titles == [
        "Audit trail fails verification at sequence number 2",
        "Audit trail fails verification at sequence number 5",
    ]


def test_a_forged_tail_is_caught_by_the_signed_checkpoint(
    settings, engine, people, policy
):
    append(engine, 3)
    checkpoint = write_checkpoint(settings, engine)
    rewrite_from(engine, checkpoint.seq - 1, '{"number":1000}')

    _monitor(settings, engine, policy)

    (alert,) = _security_alerts(engine)
    assert alert.title == (
        f"Audit trail fails verification at sequence number {checkpoint.seq}"
    )
    assert "the log was rewritten" in alert.body


def test_an_intact_trail_and_no_refusals_raise_nothing(
    settings, engine, people, policy
):
    report = _monitor(settings, engine, policy)

    assert report.security == []
    assert _security_alerts(engine) == []


def test_concurrent_runs_raise_one_alert(settings, engine, people, policy):
    _refuse(engine, people, policy.monitoring.denied_burst_count)
    now, errors = datetime.now(UTC), []

    def run():
        try:
            raise_security_alerts(
                settings, engine, policy, actor_id=SYSTEM_USER_ID, now=now
            )
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with read_session(engine) as session:
        rows = session.exec(select(Alert).where(Alert.kind == "security")).all()
    assert len(rows) == 1


def test_a_person_without_the_monitoring_role_cannot_run_the_check(
    settings, engine, people, policy
):
    with pytest.raises(PermissionDeniedError):
        raise_security_alerts(
            settings, engine, policy, actor_id=people["owner"], now=datetime.now(UTC)
        )


def _denial(seq, minutes, actor="u-a"):
    return Denial(seq, actor, T0 + timedelta(minutes=minutes))


@pytest.mark.parametrize(
    ("denials", "expected"),
    [
        ([], []),
        ([_denial(1, 0), _denial(2, 10), _denial(3, 20)], [[1, 2, 3]]),
        ([_denial(1, 0), _denial(2, 10.5)], [[1], [2]]),
        (
            [_denial(1, 0, "u-b"), _denial(2, 1), _denial(3, 2, "u-b")],
            [[2], [1, 3]],
        ),
    ],
    ids=["none", "gap-at-the-window-joins", "gap-past-the-window-splits", "per-actor"],
)
def test_refusals_group_into_episodes_per_actor(denials, expected):
    episodes = refusal_episodes(denials, timedelta(minutes=10))

    assert [[item.seq for item in episode] for episode in episodes] == expected
