"""The review calendar: due dates, overdue detection, completions, the inbox."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlmodel import select

from governance.audit import unit_of_work
from governance.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from governance.operations.calendar import (
    complete_review,
    due_date,
    overdue_reviews,
    parse_period,
    period_of,
    recent_completions,
    review_tasks,
)
from governance.store import read_session
from governance.tables import AuditEvent, ModelVersion
from governance.workflow._state import set_stage
from governance.workflow.inbox import inbox
from governance.workflow_tables import RolloutStep
from tests.workflow.conftest import register

D = dt.date
MONDAY = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
ASSIGNEE = {
    "performance": "engineer",
    "drift": "scientist",
    "model": "owner",
    "governance": "compliance",
}


@pytest.mark.parametrize(
    ("cadence", "day", "label", "start", "due"),
    [
        ("daily", D(2026, 12, 31), "2026-12-31", D(2026, 12, 31), D(2026, 12, 31)),
        ("daily", D(2024, 2, 29), "2024-02-29", D(2024, 2, 29), D(2024, 2, 29)),
        ("weekly", D(2026, 3, 4), "2026-W10", D(2026, 3, 2), D(2026, 3, 8)),
        ("weekly", D(2026, 3, 31), "2026-W14", D(2026, 3, 30), D(2026, 4, 5)),
        ("weekly", D(2026, 4, 5), "2026-W14", D(2026, 3, 30), D(2026, 4, 5)),
        ("weekly", D(2027, 1, 1), "2026-W53", D(2026, 12, 28), D(2027, 1, 3)),
        ("weekly", D(2024, 12, 30), "2025-W01", D(2024, 12, 30), D(2025, 1, 5)),
        ("monthly", D(2026, 1, 31), "2026-01", D(2026, 1, 1), D(2026, 1, 31)),
        ("monthly", D(2026, 2, 1), "2026-02", D(2026, 2, 1), D(2026, 2, 28)),
        ("monthly", D(2024, 2, 10), "2024-02", D(2024, 2, 1), D(2024, 2, 29)),
        ("monthly", D(2026, 4, 30), "2026-04", D(2026, 4, 1), D(2026, 4, 30)),
        ("monthly", D(2026, 12, 1), "2026-12", D(2026, 12, 1), D(2026, 12, 31)),
        ("quarterly", D(2026, 3, 31), "2026-Q1", D(2026, 1, 1), D(2026, 3, 31)),
        ("quarterly", D(2026, 4, 1), "2026-Q2", D(2026, 4, 1), D(2026, 6, 30)),
        ("quarterly", D(2026, 9, 30), "2026-Q3", D(2026, 7, 1), D(2026, 9, 30)),
        ("quarterly", D(2026, 12, 31), "2026-Q4", D(2026, 10, 1), D(2026, 12, 31)),
        ("quarterly", D(2027, 1, 1), "2027-Q1", D(2027, 1, 1), D(2027, 3, 31)),
        ("annually", D(2026, 7, 4), "2026", D(2026, 1, 1), D(2026, 12, 31)),
    ],
    ids=[
        "daily-new-year-eve",
        "daily-leap-day",
        "week-inside-march",
        "week-spanning-march-april",
        "week-spanning-march-april-sunday",
        "week-53-spanning-the-year",
        "week-1-starting-in-december",
        "month-january-end",
        "month-february",
        "month-leap-february",
        "month-30-days",
        "month-december",
        "quarter-1-last-day",
        "quarter-2-first-day",
        "quarter-3-last-day",
        "quarter-4-last-day",
        "quarter-after-year-end",
        "year",
    ],
)
def test_periods_and_due_dates(cadence, day, label, start, due):
    period = period_of(cadence, day)

    assert (period.label, period.start, period.due_on) == (label, start, due)
    assert due_date(cadence, day) == due
    assert parse_period(cadence, label) == period


@pytest.mark.parametrize(
    ("cadence", "label"),
    [
        ("daily", "2026-02-30"),
        ("weekly", "2026-W54"),
        ("weekly", "2026-12"),
        ("monthly", "2026-13"),
        ("quarterly", "2026-Q5"),
        ("quarterly", "2026 Q1"),
    ],
    ids=["no-feb-30", "no-week-54", "month-for-week", "month-13", "q5", "spaced"],
)
def test_malformed_periods_are_refused(cadence, label):
    with pytest.raises(InvalidInputError, match="does not name a"):
        parse_period(cadence, label)


def put_in_production(
    engine, people, policy, *, since=MONDAY, name="lead-scoring", **changes
):
    """A version of ``name`` in production since ``since`` (made by hand)."""
    version_id = register(engine, people, policy, name=name, **changes)
    with unit_of_work(engine) as work:
        version = work.session.get(ModelVersion, version_id)
        set_stage(
            work, actor_id=people["engineer"], version=version, stage="production"
        )
        work.session.add(
            RolloutStep(
                model_version_id=version_id,
                model_name=name,
                step="production",
                performed_by=people["engineer"],
                performed_at=since,
            )
        )
    return version_id


def tasks_by(engine, policy, today):
    return {
        (t.review, t.scope, t.status): t
        for t in review_tasks(engine, policy, today=today)
    }


def complete(engine, policy, people, review, period, *, scope="lead-scoring", **kw):
    return complete_review(
        engine,
        policy,
        actor_id=people[kw.pop("by", ASSIGNEE[review])],
        review=review,
        scope=scope,
        period=period,
        notes=kw.pop("notes", "Metrics within bounds."),
        findings=kw.pop("findings", ""),
        now=kw.pop("now", MONDAY + dt.timedelta(days=3)),
    )


def test_tasks_for_a_model_in_production(engine, people, policy):
    put_in_production(engine, people, policy)

    tasks = tasks_by(engine, policy, D(2026, 3, 5))

    daily = tasks[("performance", "lead-scoring", "overdue")]
    assert (daily.period.label, daily.missed, daily.role) == (
        "2026-03-04",
        3,
        "ml_engineer",
    )
    assert tasks[("performance", "lead-scoring", "due")].period.label == "2026-03-05"
    assert tasks[("performance", "lead-scoring", "next")].period.label == "2026-03-06"
    assert tasks[("drift", "lead-scoring", "due")].period.due_on == D(2026, 3, 8)
    assert tasks[("drift", "lead-scoring", "due")].role == "data_scientist"
    assert tasks[("model", "lead-scoring", "due")].period.due_on == D(2026, 3, 31)
    assert tasks[("model", "lead-scoring", "due")].role == "model_owner"
    governance = tasks[("governance", "console", "due")]
    assert (governance.period.label, governance.role) == (
        "2026-Q1",
        "compliance_officer",
    )
    assert [t.status for t in review_tasks(engine, policy, today=D(2026, 3, 5))][0] == (
        "overdue"
    )
    assert len(tasks) == 1 + 4 * 2


def test_overdue_only_after_the_due_date(engine, people, policy):
    put_in_production(engine, people, policy)

    on_sunday = overdue_reviews(engine, policy, today=D(2026, 3, 8))
    on_monday = overdue_reviews(engine, policy, today=D(2026, 3, 9))

    assert {(t.review, t.period.label) for t in on_sunday} == {
        ("performance", "2026-03-07")
    }
    assert {(t.review, t.period.label, t.missed) for t in on_monday} == {
        ("performance", "2026-03-08", 7),
        ("drift", "2026-W10", 1),
    }
    assert on_monday[0].overdue_since == dt.datetime(2026, 3, 9, tzinfo=dt.UTC)


def test_completions_clear_overdue_tasks_latest_first(engine, people, policy):
    put_in_production(engine, people, policy)
    today = D(2026, 3, 5)

    complete(engine, policy, people, "performance", "2026-03-04")
    (task,) = overdue_reviews(engine, policy, today=today)
    assert (task.period.label, task.missed) == ("2026-03-03", 2)

    for day in ("2026-03-02", "2026-03-03", "2026-03-05"):
        complete(engine, policy, people, "performance", day)
    assert overdue_reviews(engine, policy, today=today) == []
    tasks = tasks_by(engine, policy, today)
    assert tasks[("performance", "lead-scoring", "done")].period.label == "2026-03-05"


def test_quarters_and_months_across_the_year_end(engine, people, policy):
    put_in_production(engine, people, policy)
    complete(engine, policy, people, "governance", "2026-Q1", scope="console")

    overdue = {
        t.review: t for t in overdue_reviews(engine, policy, today=D(2027, 1, 1))
    }

    assert (overdue["governance"].period.label, overdue["governance"].missed) == (
        "2026-Q4",
        3,
    )
    assert overdue["governance"].period.due_on == D(2026, 12, 31)
    assert (overdue["model"].period.label, overdue["model"].missed) == ("2026-12", 10)
    assert overdue["drift"].period.label == "2026-W52"
    tasks = tasks_by(engine, policy, D(2027, 1, 1))
    assert tasks[("governance", "console", "due")].period.label == "2027-Q1"
    assert tasks[("drift", "lead-scoring", "due")].period.label == "2026-W53"
    assert tasks[("drift", "lead-scoring", "due")].period.due_on == D(2027, 1, 3)


def test_only_the_assigned_role_completes_a_review(engine, people, policy):
    put_in_production(engine, people, policy)

    for review, holder in ASSIGNEE.items():
        scope = "console" if review == "governance" else "lead-scoring"
        period = {"performance": "2026-03-02", "drift": "2026-W10"}.get(
            review, "2026-03" if review == "model" else "2026-Q1"
        )
        for other in (set(ASSIGNEE.values()) | {"security", "admin"}) - {holder}:
            with pytest.raises(PermissionDeniedError):
                complete(engine, policy, people, review, period, scope=scope, by=other)
        complete(engine, policy, people, review, period, scope=scope)

    assert len(recent_completions(engine)) == 4
    with read_session(engine) as session:
        refused = session.exec(
            select(AuditEvent).where(
                AuditEvent.action == "access.denied", AuditEvent.entity_type == "review"
            )
        ).all()
        attempted = {json.loads(event.payload)["attempted"] for event in refused}
    assert len(refused) == 4 * 5
    assert attempted == {"review.complete"}


def test_a_completion_is_audited_with_notes_and_findings(engine, people, policy):
    put_in_production(engine, people, policy)

    complete(
        engine,
        policy,
        people,
        "drift",
        "2026-W10",
        notes="PSI of every feature below 0.1.",
        findings="region PSI rising: 0.08.",
        now=dt.datetime(2026, 3, 10, 8, tzinfo=dt.UTC),
    )

    with read_session(engine) as session:
        event = session.exec(
            select(AuditEvent).where(AuditEvent.action == "review.completed")
        ).one()
        payload = json.loads(event.payload)
        assert (event.actor_id, event.entity_id) == (
            people["scientist"],
            "drift/lead-scoring/2026-W10",
        )
    assert payload["findings"] == "region PSI rising: 0.08."
    assert payload["is_late"] is True
    assert payload["due_on"] == "2026-03-08"
    (done,) = recent_completions(engine)
    assert (done.completed_by, done.was_late, done.notes) == (
        "Scientist",
        True,
        "PSI of every feature below 0.1.",
    )


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"notes": "  "}, InvalidInputError, "notes are empty"),
        ({"notes": "n" * 5001}, InvalidInputError, "notes have 5,001 characters"),
        ({"findings": "f" * 5001}, InvalidInputError, "findings have 5,001"),
        ({"period": "2026-03-09"}, InvalidInputError, "has not started yet"),
        ({"period": "2026-W10"}, InvalidInputError, "does not name a daily"),
        ({"scope": "console"}, InvalidInputError, "cover one model"),
        ({"scope": "no-such-model"}, NotFoundError, "No governed model"),
        ({"review": "weekly"}, InvalidInputError, "Unknown review"),
    ],
    ids=[
        "empty-notes",
        "long-notes",
        "long-findings",
        "future",
        "wrong-form",
        "console-scope",
        "unknown-model",
        "unknown-review",
    ],
)
def test_bad_completions_are_refused(engine, people, policy, change, error, message):
    put_in_production(engine, people, policy)
    fields = {
        "actor_id": people["engineer"],
        "review": "performance",
        "scope": "lead-scoring",
        "period": "2026-03-03",
        "notes": "Fine.",
        "now": MONDAY + dt.timedelta(days=3),
        **change,
    }

    with pytest.raises(error, match=message):
        complete_review(engine, policy, **fields)
    assert recent_completions(engine) == []


def test_a_review_is_completed_once(engine, people, policy):
    put_in_production(engine, people, policy)
    complete(engine, policy, people, "performance", "2026-03-03")

    with pytest.raises(ConflictError, match="already completed"):
        complete(engine, policy, people, "performance", "2026-03-03")


def test_no_model_in_production_leaves_only_the_governance_review(
    engine, people, policy
):
    register(engine, people, policy)

    tasks = review_tasks(engine, policy, today=dt.datetime.now(dt.UTC).date())

    assert {(t.review, t.scope) for t in tasks} == {("governance", "console")}


def test_overdue_reviews_reach_the_inbox_of_the_assigned_role(engine, people, policy):
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
    put_in_production(engine, people, policy, since=since)

    engineer = [
        i
        for i in inbox(engine, policy, people["engineer"])
        if i.action == "review.complete"
    ]
    owner = [
        i
        for i in inbox(engine, policy, people["owner"])
        if i.action == "review.complete"
    ]

    yesterday = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).date()
    assert [item.what for item in engineer] == [
        f"Overdue: Performance metrics review for {yesterday.isoformat()} (10 missed)"
    ]
    assert engineer[0].model_name == "lead-scoring"
    assert all("Performance" not in item.what for item in owner)


def test_the_review_commands(engine, people, policy, settings, monkeypatch, capsys):
    from governance.cli import main

    put_in_production(engine, people, policy)
    monkeypatch.setenv("GOVERNANCE_HOME", str(settings.home))
    monkeypatch.setenv("GOVERNANCE_DATABASE_URL", settings.database_url)
    complete_args = ["review", "complete", "--review", "drift"]
    complete_args += ["--scope", "lead-scoring", "--period", "2026-W10"]

    assert main(["review", "due", "--today", "2026-03-09"]) == 0
    due = capsys.readouterr().out.splitlines()
    assert due[:2] == [
        "overdue  Drift detection review of lead-scoring for 2026-W10, "
        "due 2026-03-08, Data scientist",
        "overdue  Performance metrics review of lead-scoring for 2026-03-08, "
        "due 2026-03-08, ML engineer (7 missed)",
    ]
    assert main([*complete_args, "--notes", "PSI fine.", "--as", "engineer"]) == 2
    assert "Data scientist" in capsys.readouterr().err
    assert main([*complete_args, "--notes", "PSI fine.", "--as", "scientist"]) == 0
    assert main(["review", "due", "--today", "2026-03-09"]) == 0
    assert "Drift detection review of lead-scoring for 2026-W10" not in (
        capsys.readouterr().out
    )
    assert main(["review", "due", "--today", "9 March"]) == 2
