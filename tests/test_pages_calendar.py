"""The review calendar page and the home page's overdue warning (AppTest)."""

from __future__ import annotations

import datetime as dt

import pytest

from governance.operations.calendar import overdue_reviews, recent_completions
from tests.app_support import DEMO_IDS as DEMO
from tests.app_support import open_page
from tests.operations.test_calendar import put_in_production

PAGE, HOME = "views/calendar.py", "views/inventory.py"


@pytest.fixture
def in_production(app_store):
    engine, policy = app_store
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    return put_in_production(engine, DEMO, policy, since=since)


def _overdue(app):
    return [w.value for w in app.warning if "overdue" in w.value]


def test_the_calendar_lists_overdue_first_and_completes_a_review(
    app_store, in_production
):
    engine, policy = app_store
    today = dt.datetime.now(dt.UTC).date()
    overdue = overdue_reviews(engine, policy, today=today)
    daily = next(task for task in overdue if task.review == "performance")
    app = open_page("priya", PAGE)

    table = app.dataframe[0].value
    assert list(table["Status"][: len(overdue)]) == ["⚠ overdue"] * len(overdue)
    assert "⚠ overdue" not in list(table["Status"][len(overdue) :])
    row = list(table["Review"]).index("Performance metrics review")
    assert (table["Period"][row], table["Missed"][row]) == (daily.period.label, "3")
    assert _overdue(app) == [f"{len(overdue)} review(s) overdue."]
    options = app.selectbox[0].options
    assert options[0] == (
        f"Performance metrics review of lead-scoring for {daily.period.label} (overdue)"
    )
    assert all("Performance metrics review" in option for option in options)

    next(w for w in app.text_area if w.key == "calendar_notes").input(
        "AUC 0.81, precision 0.62, recall 0.58: within the standards."
    )
    next(w for w in app.text_area if w.key == "calendar_findings").input("None.")
    app.button(key="FormSubmitter:calendar_complete-Record the review").click().run()

    assert not app.exception
    assert app.success[0].value == (
        f"Recorded: Performance metrics review of lead-scoring for "
        f"{daily.period.label}."
    )
    (done,) = recent_completions(engine)
    assert (done.period, done.completed_by, done.findings) == (
        daily.period.label,
        "Priya Nair",
        "None.",
    )
    table = app.dataframe[0].value
    row = list(table["Review"]).index("Performance metrics review")
    assert table["Missed"][row] == "2"
    completed = app.dataframe[-1].value  # "Recent completions", below the tasks
    assert list(completed["Review"]) == ["Performance metrics review"]


def test_empty_notes_are_refused_on_the_page(app_store, in_production):
    engine, _ = app_store
    app = open_page("omar", PAGE)

    app.button(key="FormSubmitter:calendar_complete-Record the review").click().run()

    assert "notes are empty" in app.error[0].value
    assert recent_completions(engine) == []


def test_a_role_with_no_review_due_is_told_so(app_store, in_production):
    app = open_page("sofia", PAGE)

    assert [item.value for item in app.info] == ["No review waits for your roles."]


def test_the_home_page_shows_overdue_reviews(app_store, in_production):
    app = open_page("layla", HOME)

    (warning,) = _overdue(app)
    assert "scheduled review(s) overdue: " in warning
    assert "Performance metrics review of lead-scoring" in warning
    assert app.get("page_link")[0].proto.page.endswith("calendar")


def test_the_home_page_is_quiet_when_nothing_is_overdue(app_store):
    app = open_page("layla", HOME)

    assert _overdue(app) == []


def test_an_overdue_review_in_the_inbox_opens_the_calendar(app_store, in_production):
    app = open_page("priya", "views/inbox.py")

    labels = app.selectbox(key="inbox_item").options
    overdue = [label for label in labels if label.startswith("Overdue: Performance")]
    assert len(overdue) == 1
    app.selectbox(key="inbox_item").set_value(labels.index(overdue[0])).run()
    app.button(key="inbox_open").click().run()

    assert not app.exception
    assert app.title[0].value == "Review calendar"
