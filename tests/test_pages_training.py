"""The training page and the inbox's overdue training (AppTest, demo mode)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from governance.store import read_session
from governance.training_tables import TrainingCompletion
from tests.app_support import open_page, person
from tests.records.test_training import date_memberships

TRAINING, INBOX = "views/training.py", "views/inbox.py"


@pytest.fixture
def omar_overdue(app_store):
    """Omar received his role 40 days ago and has completed nothing."""
    engine, _ = app_store
    today = datetime.now(UTC).date()
    date_memberships(engine, {person("omar"): today - timedelta(days=40)})
    return engine


def _completions(engine):
    with read_session(engine) as session:
        return session.exec(select(TrainingCompletion)).all()


def _table(app, key):
    return next(frame for frame in app.dataframe if frame.proto.id.endswith(key))


def test_a_new_member_sees_every_course_due(app_store):
    app = open_page("omar", TRAINING)

    table = app.dataframe[0].value
    assert list(table["Status"]) == ["due"] * 4
    assert set(table["Why"]) == {"new team member"}
    assert not app.main.warning
    assert "The team" not in [header.value for header in app.subheader]


def test_overdue_training_is_shown_to_the_person(omar_overdue):
    app = open_page("omar", TRAINING)

    assert "4 of your 4 courses are overdue" in app.main.warning[0].value
    table = app.dataframe[0].value
    assert list(table["Status"]) == ["⚠ overdue"] * 4
    assert list(table["Days overdue"]) == [10] * 4


def test_overdue_training_waits_in_the_inbox(omar_overdue):
    app = open_page("omar", INBOX)

    table = app.dataframe[0].value
    training = [what for what in table["What"] if what.startswith("Overdue training")]
    assert len(training) == 4
    assert "new team member)" in training[0]


def test_a_person_records_their_own_completion(app_store):
    engine, _ = app_store
    app = open_page("omar", TRAINING)

    app.selectbox(key="training_course").select("incident_response_procedures")
    app.button(key="FormSubmitter:training_self-Record my completion").click().run()

    assert not app.exception, app.exception
    assert "Incident response procedures completed" in app.main.success[0].value
    (record,) = _completions(engine)
    assert (record.user_id, record.recorded_by) == (person("omar"), person("omar"))
    assert record.course == "incident_response_procedures"


def test_administrator_sees_everyone_overdue_first_and_records_for_them(
    omar_overdue,
):
    app = open_page("admin", TRAINING)

    assert "The team" in [header.value for header in app.subheader]
    team = app.dataframe[-1].value
    assert list(team["Person"][:4]) == ["Omar Farouk"] * 4
    assert list(team["Status"][:4]) == ["⚠ overdue"] * 4
    assert set(team["Status"][4:]) == {"due"}
    assert [m.value for m in app.metric] == ["7", "1", "4"]

    app.selectbox(key="training_person").select(person("omar"))
    app.button(key="FormSubmitter:training_for_someone-Record the completion").click()
    app.run()

    assert not app.exception, app.exception
    (record,) = _completions(omar_overdue)
    assert (record.user_id, record.recorded_by) == (person("omar"), person("admin"))


def test_compliance_officer_sees_the_team_but_records_only_their_own(omar_overdue):
    app = open_page("daniel", TRAINING)

    assert "The team" in [header.value for header in app.subheader]
    assert "administrator records completions" in app.main.caption[-1].value
    assert not [b for b in app.button if b.key.startswith("FormSubmitter:training_for")]


@pytest.mark.parametrize("username", ["layla", "priya", "sofia"])
def test_other_roles_see_only_their_own(omar_overdue, username):
    app = open_page(username, TRAINING)

    assert "The team" not in [header.value for header in app.subheader]
    assert len(app.dataframe) == 1
    assert "Omar Farouk" not in str(app.dataframe[0].value)
