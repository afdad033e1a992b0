"""Training records and due dates: new members, refreshers and policy changes."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, update
from sqlmodel import col, select

from governance.access import SYSTEM_USER_ID
from governance.audit import unit_of_work, verify_chain
from governance.bootstrap import install_policy
from governance.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from governance.policy import DEFAULT_POLICY_PATH, Policy, load_policy, parse_policy
from governance.records.training import (
    PolicyChange,
    next_obligation,
    overdue_training,
    record_completion,
    team_training_status,
    training_compliance,
    training_status,
)
from governance.store import read_session
from governance.tables import AuditEvent, InstalledPolicy, RoleAssignment, User
from governance.training_tables import TrainingCompletion

SHIPPED = load_policy().version  # the version of the policy file in force

COURSE = "compliance_requirements"
JOINED = date(2026, 1, 10)


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 30, tzinfo=UTC)


def date_memberships(engine: Engine, joined: dict[str, date]) -> None:
    """Date people's role grants (the fixture grants them now)."""
    with unit_of_work(engine) as work:
        for user_id, day in joined.items():
            work.session.execute(
                update(RoleAssignment)
                .where(col(RoleAssignment.user_id) == user_id)
                .values(granted_at=_at(day))
            )
        work.record(
            actor_id=SYSTEM_USER_ID,
            action="test.memberships_dated",
            entity_type="test",
            entity_id="roles",
            payload={k: v.isoformat() for k, v in joined.items()},
        )


def install_version(engine: Engine, version: str, day: date) -> Policy:
    """Install the shipped policy under another version, dated ``day``."""
    text = DEFAULT_POLICY_PATH.read_text(encoding="utf-8").replace(
        f'version: "{SHIPPED}"', f'version: "{version}"'
    )
    changed = parse_policy(text)
    assert install_policy(engine, changed, content=text)
    _date_installation(engine, version, day)
    return changed


def _date_installation(engine: Engine, version: str, day: date) -> None:
    with unit_of_work(engine) as work:
        work.session.execute(
            update(InstalledPolicy)
            .where(col(InstalledPolicy.version) == version)
            .values(installed_at=_at(day))
        )
        work.record(
            actor_id=SYSTEM_USER_ID,
            action="test.installation_dated",
            entity_type="policy",
            entity_id=version,
            payload={"installed_on": day.isoformat()},
        )


@pytest.fixture
def team(engine, people):
    """The people fixture, all joined on JOINED, the first policy dated 2025-01-01."""
    _date_installation(engine, SHIPPED, date(2025, 1, 1))
    date_memberships(engine, dict.fromkeys(people.values(), JOINED))
    return people


def _one(engine, policy, user_id, today, course=COURSE):
    statuses = training_status(engine, policy, today, user_id=user_id)
    return next(s for s in statuses if s.course == course)


# next_obligation: hand-computed dates with new_member_days=30, refresher_days=365.
MAY_CHANGE = PolicyChange("9.1.0", date(2026, 5, 1))
MARCH_CHANGE = PolicyChange("1.0.1", date(2026, 3, 1))
CASES = [
    pytest.param(
        JOINED, None, [], date(2026, 2, 9), "new team member", id="new-member"
    ),
    pytest.param(
        JOINED,
        date(2026, 1, 20),
        [],
        date(2027, 1, 20),
        "annual refresher",
        id="refresher-after-first-completion",
    ),
    pytest.param(
        JOINED,
        date(2026, 1, 20),
        [MAY_CHANGE],
        date(2026, 5, 31),
        "policy 9.1.0 installed",
        id="policy-change-after-completion",
    ),
    pytest.param(
        JOINED,
        date(2026, 5, 1),
        [MAY_CHANGE],
        date(2027, 5, 1),
        "annual refresher",
        id="completion-on-the-installation-day-counts",
    ),
    pytest.param(
        JOINED,
        date(2026, 4, 30),
        [MAY_CHANGE],
        date(2026, 5, 31),
        "policy 9.1.0 installed",
        id="completion-the-day-before-does-not-count",
    ),
    pytest.param(
        JOINED,
        date(2026, 1, 20),
        [MARCH_CHANGE, MAY_CHANGE],
        date(2026, 3, 31),
        "policy 1.0.1 installed",
        id="earliest-unmet-change-sets-the-deadline",
    ),
    pytest.param(
        date(2026, 6, 15),
        None,
        [MAY_CHANGE],
        date(2026, 7, 15),
        "new team member",
        id="joined-after-the-change",
    ),
    pytest.param(
        JOINED,
        date(2026, 1, 20),
        [PolicyChange("2.0.0", date(2027, 1, 5))],
        date(2027, 1, 20),
        "annual refresher",
        id="refresher-due-before-the-change-deadline",
    ),
    pytest.param(
        JOINED,
        None,
        [PolicyChange("1.0.1", date(2026, 1, 15))],
        date(2026, 2, 9),
        "new team member",
        id="change-while-new-member-deadline-runs",
    ),
]


@pytest.mark.parametrize(("joined", "last", "changes", "due_on", "reason"), CASES)
def test_next_obligation_matches_hand_computed_dates(
    policy, joined, last, changes, due_on, reason
):
    obligation = next_obligation(
        policy.training, member_since=joined, last_completed_on=last, changes=changes
    )

    assert (obligation.due_on, obligation.reason) == (due_on, reason)


def test_policy_change_is_ignored_when_the_policy_says_so(policy):
    rules = policy.training.model_copy(update={"on_policy_change": False})

    obligation = next_obligation(
        rules,
        member_since=JOINED,
        last_completed_on=date(2026, 1, 20),
        changes=[MAY_CHANGE],
    )

    assert obligation.due_on == date(2027, 1, 20)


# The same rules read from the store, on SQLite and PostgreSQL.
STORE_CASES = [
    pytest.param([], [], date(2026, 2, 9), "due", 0, id="new-member-on-the-due-day"),
    pytest.param([], [], date(2026, 2, 10), "overdue", 1, id="new-member-a-day-late"),
    pytest.param(
        [date(2026, 1, 20)], [], date(2027, 1, 20), "current", 0, id="refresher-on-time"
    ),
    pytest.param(
        [date(2026, 1, 20)],
        [],
        date(2027, 1, 30),
        "overdue",
        10,
        id="refresher-ten-days-late",
    ),
    pytest.param(
        [date(2026, 1, 20)],
        [("9.1.0", date(2026, 5, 1))],
        date(2026, 6, 1),
        "overdue",
        1,
        id="policy-change-unmet",
    ),
    pytest.param(
        [date(2026, 1, 20)],
        [("9.1.0", date(2026, 5, 1))],
        date(2026, 5, 20),
        "due",
        0,
        id="policy-change-pending",
    ),
    pytest.param(
        [date(2026, 1, 20), date(2026, 5, 1)],
        [("9.1.0", date(2026, 5, 1))],
        date(2026, 6, 1),
        "current",
        0,
        id="policy-change-met-on-the-day",
    ),
    pytest.param(
        [date(2026, 1, 20)],
        [("9.1.0", date(2026, 7, 1))],
        date(2026, 6, 1),
        "current",
        0,
        id="change-after-today-is-not-yet-known",
    ),
]


@pytest.mark.parametrize(
    ("completions", "installs", "today", "status", "days_late"), STORE_CASES
)
def test_status_read_from_the_store(
    engine, policy, team, completions, installs, today, status, days_late
):
    for version, day in installs:
        install_version(engine, version, day)
    for day in completions:
        record_completion(
            engine,
            policy,
            actor_id=team["scientist"],
            user_id=team["scientist"],
            course=COURSE,
            completed_on=day,
            today=day,
        )

    found = _one(engine, policy, team["scientist"], today)

    assert (found.status, found.days_overdue) == (status, days_late)
    assert found.member_since == JOINED


def test_completion_records_the_policy_version_in_force(engine, policy, team):
    install_version(engine, "9.1.0", date(2026, 5, 1))
    scientist = team["scientist"]

    days = [date(2024, 12, 31), date(2026, 4, 30), date(2026, 5, 1)]
    for day in days:
        record_completion(
            engine,
            policy,
            actor_id=scientist,
            user_id=scientist,
            course=COURSE,
            completed_on=day,
            today=date(2026, 6, 1),
        )

    with read_session(engine) as session:
        versions = session.exec(
            select(
                TrainingCompletion.completed_on, TrainingCompletion.policy_version
            ).order_by(col(TrainingCompletion.completed_on))
        ).all()
    assert [tuple(row) for row in versions] == [
        (date(2024, 12, 31), None),
        (date(2026, 4, 30), SHIPPED),
        (date(2026, 5, 1), "9.1.0"),
    ]


def test_a_new_member_owes_every_course(engine, policy, team):
    statuses = training_status(engine, policy, date(2026, 2, 10), user_id=team["owner"])

    assert [s.course for s in statuses] == sorted(policy.training.courses)
    assert {(s.status, s.due_on, s.reason) for s in statuses} == {
        ("overdue", date(2026, 2, 9), "new team member")
    }


def test_overdue_is_listed_for_the_person_and_for_everyone(engine, policy, team):
    today = date(2026, 2, 10)
    for course in policy.training.courses:
        record_completion(
            engine,
            policy,
            actor_id=team["owner"],
            user_id=team["owner"],
            course=course,
            completed_on=date(2026, 2, 1),
            today=today,
        )

    own = overdue_training(engine, policy, today, user_id=team["scientist"])
    everyone = overdue_training(engine, policy, today)

    assert {(s.user_id, s.course) for s in own} == {
        (team["scientist"], course) for course in policy.training.courses
    }
    assert overdue_training(engine, policy, today, user_id=team["owner"]) == []
    assert {s.user_id for s in everyone} == set(team.values()) - {team["owner"]}
    assert len(everyone) == 5 * len(policy.training.courses)


def test_team_status_lists_overdue_first(engine, policy, team):
    date_memberships(engine, {team["owner"]: date(2026, 2, 1)})
    status = team_training_status(
        engine, policy, date(2026, 2, 10), viewer_id=team["admin"]
    )

    assert [s.status for s in status[:20]] == ["overdue"] * 20
    assert {s.status for s in status[20:]} == {"due"}
    assert {s.user_id for s in status[20:]} == {team["owner"]}


@pytest.mark.parametrize("viewer", ["admin", "compliance"])
def test_overseers_see_everyone(engine, policy, team, viewer):
    status = team_training_status(
        engine, policy, date(2026, 2, 10), viewer_id=team[viewer]
    )

    assert len(status) == len(team) * len(policy.training.courses)


@pytest.mark.parametrize("viewer", ["owner", "scientist", "engineer", "security"])
def test_others_do_not_see_everyone(engine, policy, team, viewer):
    with pytest.raises(PermissionDeniedError, match="Administrator or Compliance"):
        team_training_status(engine, policy, date(2026, 2, 10), viewer_id=team[viewer])


def test_people_without_a_role_or_deactivated_owe_nothing(engine, policy, team):
    with unit_of_work(engine) as work:
        work.session.execute(
            update(User).where(col(User.id) == team["engineer"]).values(is_active=False)
        )
        work.record(
            actor_id=SYSTEM_USER_ID,
            action="test.deactivated",
            entity_type="user",
            entity_id=team["engineer"],
        )

    people = {s.user_id for s in training_status(engine, policy, date(2026, 3, 1))}

    assert people == set(team.values()) - {team["engineer"]}
    assert SYSTEM_USER_ID not in people


def test_training_compliance_counts_per_course(engine, policy, team):
    on = date(2026, 6, 1)
    install_version(engine, "9.1.0", date(2026, 5, 1))
    date_memberships(engine, {team["admin"]: date(2026, 5, 20)})
    record = {"actor_id": team["admin"], "course": COURSE, "today": on}
    record_completion(
        engine, policy, user_id=team["owner"], completed_on=date(2026, 5, 2), **record
    )
    record_completion(
        engine,
        policy,
        user_id=team["scientist"],
        completed_on=date(2026, 1, 20),
        **record,
    )

    summary = training_compliance(engine, policy, on)

    by_course = {c.course: c for c in summary.courses}
    # owner: current (after the change); scientist: change unmet since 2026-05-31;
    # admin: joined 2026-05-20, due 2026-06-19; the other three: new-member overdue.
    assert (by_course[COURSE].current, by_course[COURSE].due) == (1, 1)
    assert by_course[COURSE].overdue == 4
    other = by_course["ml_governance_framework"]
    assert (other.members, other.current, other.due, other.overdue) == (6, 0, 1, 5)
    assert (summary.members, summary.members_overdue) == (6, 5)
    assert summary.overdue_total == 4 + 3 * 5
    assert summary.members_compliant == 1


def test_compliance_ignores_what_happened_after_the_day(engine, policy, team):
    record_completion(
        engine,
        policy,
        actor_id=team["owner"],
        user_id=team["owner"],
        course=COURSE,
        completed_on=date(2026, 3, 1),
        today=date(2026, 3, 1),
    )

    before = training_compliance(engine, policy, date(2026, 2, 20))

    course = next(c for c in before.courses if c.course == COURSE)
    assert (course.current, course.overdue) == (0, 6)


def test_an_administrator_records_for_someone_else(engine, policy, team):
    record_id = record_completion(
        engine,
        policy,
        actor_id=team["admin"],
        user_id=team["scientist"],
        course=COURSE,
        completed_on=date(2026, 1, 20),
        today=date(2026, 1, 21),
    )

    with read_session(engine) as session:
        stored = session.get(TrainingCompletion, record_id)
        event = session.exec(
            select(AuditEvent).where(AuditEvent.action == "training.completed")
        ).one()
    assert stored is not None
    assert (stored.user_id, stored.recorded_by) == (team["scientist"], team["admin"])
    assert (event.actor_id, event.entity_id) == (team["admin"], str(record_id))
    assert json.loads(event.payload) == {
        "user_id": team["scientist"],
        "course": COURSE,
        "completed_on": "2026-01-20",
        "policy_version": SHIPPED,
        "self_declared": False,
    }
    assert verify_chain(engine).is_intact


@pytest.mark.parametrize("actor", ["owner", "compliance", "security"])
def test_only_an_administrator_records_for_someone_else(engine, policy, team, actor):
    with pytest.raises(PermissionDeniedError, match="Administrator"):
        record_completion(
            engine,
            policy,
            actor_id=team[actor],
            user_id=team["scientist"],
            course=COURSE,
        )


@pytest.mark.parametrize(
    ("course", "day", "error", "message"),
    [
        pytest.param("cooking", None, InvalidInputError, "Unknown course", id="course"),
        pytest.param(
            COURSE, date(2099, 1, 1), InvalidInputError, "after today", id="future"
        ),
    ],
)
def test_bad_input_is_refused(engine, policy, team, course, day, error, message):
    with pytest.raises(error, match=message):
        record_completion(
            engine,
            policy,
            actor_id=team["owner"],
            user_id=team["owner"],
            course=course,
            completed_on=day,
        )


def test_unknown_or_deactivated_person_is_refused(engine, policy, team):
    with pytest.raises(NotFoundError, match="No active person"):
        record_completion(
            engine, policy, actor_id=team["admin"], user_id="u-nobody", course=COURSE
        )


def test_the_same_completion_is_recorded_once(engine, policy, team):
    args = {
        "actor_id": team["owner"],
        "user_id": team["owner"],
        "course": COURSE,
        "completed_on": date(2026, 2, 1),
    }
    record_completion(engine, policy, **args)

    with pytest.raises(ConflictError, match="already recorded"):
        record_completion(engine, policy, **args)


def test_concurrent_duplicates_store_one_record(engine, policy, team):
    outcomes: list[str] = []
    args = {
        "actor_id": team["owner"],
        "user_id": team["owner"],
        "course": COURSE,
        "completed_on": date(2026, 2, 1),
    }

    def attempt() -> None:
        try:
            record_completion(engine, policy, **args)
            outcomes.append("stored")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["conflict", "stored"]


def test_policy_without_change_rule_ignores_installations(engine, policy, team):
    install_version(engine, "9.1.0", date(2026, 5, 1))
    record_completion(
        engine,
        policy,
        actor_id=team["owner"],
        user_id=team["owner"],
        course=COURSE,
        completed_on=date(2026, 1, 20),
        today=date(2026, 1, 20),
    )
    relaxed = replace_training(policy, on_policy_change=False)

    found = _one(engine, relaxed, team["owner"], date(2026, 6, 1))

    assert (found.status, found.due_on) == ("current", date(2027, 1, 20))


def replace_training(policy: Policy, **changes: object) -> Policy:
    """The policy with its training section changed."""
    return policy.model_copy(
        update={"training": policy.training.model_copy(update=changes)}
    )


@pytest.fixture
def cli_env(settings, engine, monkeypatch):
    monkeypatch.setenv("GOVERNANCE_HOME", str(settings.home))
    monkeypatch.setenv("GOVERNANCE_DATABASE_URL", settings.database_url)
    monkeypatch.delenv("GOVERNANCE_USER", raising=False)


def test_cli_records_and_lists_overdue(engine, policy, team, cli_env, capsys):
    from governance.cli import main

    recorded = main(
        [
            "training",
            "record",
            "--user",
            "scientist",
            "--course",
            COURSE,
            "--on",
            "2026-01-20",
            "--as",
            "admin",
        ]
    )
    out = capsys.readouterr().out
    listed = main(
        ["training", "status", "--overdue", "--user", "scientist", "--on", "2026-02-10"]
    )
    lines = capsys.readouterr().out.splitlines()

    assert recorded == 0
    assert "scientist completed Compliance requirements on 2026-01-20" in out
    assert listed == 1
    assert len(lines) == 3
    assert all(line.startswith("overdue  scientist") for line in lines)
    assert "due 2026-02-09 (new team member, 1 days overdue" in lines[0]


def test_cli_status_exits_0_when_nothing_is_overdue(team, cli_env, capsys):
    from governance.cli import main

    code = main(["training", "status", "--overdue", "--on", "2026-01-11"])

    assert code == 0
    assert capsys.readouterr().out == "Nothing overdue.\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(
            ["record", "--user", "scientist", "--course", COURSE, "--as", "owner"],
            "needs the role Administrator",
            id="not-an-administrator",
        ),
        pytest.param(
            ["record", "--user", "nobody", "--course", COURSE, "--as", "admin"],
            "No user named 'nobody'",
            id="unknown-user",
        ),
        pytest.param(
            ["status", "--on", "31/01/2026"], "write it as YYYY-MM-DD", id="bad-day"
        ),
        pytest.param(
            ["record", "--user", "scientist", "--course", COURSE],
            "Say who is acting",
            id="no-actor",
        ),
    ],
)
def test_cli_refuses_bad_input_with_exit_2(team, cli_env, capsys, argv, message):
    from governance.cli import main

    code = main(["training", *argv])

    assert code == 2
    assert message in capsys.readouterr().err


def test_demo_team_is_mostly_current_with_two_people_overdue(engine, policy):
    from governance.demo.records import seed_training
    from governance.demo.world import seed_people

    seed_people(engine)
    today = date(2026, 12, 3)

    story = seed_training(engine, policy, today)

    late = overdue_training(engine, policy, today)
    assert {(s.username, s.course, s.days_overdue) for s in late} == {
        ("sofia", "compliance_requirements", 35),
        ("sofia", "incident_response_procedures", 35),
        ("chen", "compliance_requirements", 15),
        ("chen", "incident_response_procedures", 15),
    }
    assert story == (
        "Training: 50 completions recorded, 4 courses overdue (Chen Wei, Sofia Marin)."
    )
    assert seed_training(engine, policy, today) == ""
    assert verify_chain(engine).is_intact


def test_the_inbox_lists_only_the_persons_own_overdue_training(engine, policy, team):
    from governance.workflow import inbox

    record_completion(
        engine,
        policy,
        actor_id=team["owner"],
        user_id=team["owner"],
        course=COURSE,
        completed_on=date(2026, 11, 30),
    )

    items = [
        i
        for i in inbox(engine, policy, team["owner"])
        if i.action == "training.complete"
    ]

    assert len(items) == len(policy.training.courses) - 1
    assert {i.waiting_since for i in items} == {datetime(2026, 2, 9, tzinfo=UTC)}
    assert all(i.what.startswith("Overdue training: ") for i in items)
    assert "due 2026-02-09, new team member" in items[0].what
