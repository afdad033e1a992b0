"""Training: your required courses, and everyone's standing for administrators."""

from datetime import UTC, datetime
from functools import partial

import streamlit as st

from governance.access import list_people
from governance.errors import GovernanceError
from governance.records.training import (
    OVERSEER_ROLES,
    course_title,
    record_completion,
    team_training_status,
    training_compliance,
    training_status,
)
from ui.context import acting_person, store
from ui.signoff import act, show_flash, signed_in_or_stop

STATUS_LABELS = {"overdue": "⚠ overdue", "due": "due", "current": "current"}


def status_table(statuses, *, with_person: bool, key: str) -> None:
    """Course standings as a table, overdue first."""
    columns = {"Person": [s.display_name for s in statuses]} if with_person else {}
    columns |= {
        "Course": [s.course_title for s in statuses],
        "Status": [STATUS_LABELS[s.status] for s in statuses],
        "Due": [s.due_on for s in statuses],
        "Why": [s.reason for s in statuses],
        "Days overdue": [s.days_overdue for s in statuses],
        "Last completed": [s.last_completed_on for s in statuses],
    }
    st.dataframe(columns, hide_index=True, key=key)


settings, engine, policy = store()
st.title("Training")
show_flash()
rules = policy.training
st.caption(
    f"Every team member completes the framework's {len(rules.courses)} required "
    f"courses within {rules.new_member_days} days of receiving their first role, "
    f"then again every {rules.refresher_days} days"
    + (
        f", and within {rules.new_member_days} days of each new policy version "
        "(a completion counts for a version when made on or after the day it was "
        "installed)."
        if rules.on_policy_change
        else "."
    )
)
person = signed_in_or_stop(acting_person())
today = datetime.now(UTC).date()

st.subheader("Your training")
mine = training_status(engine, policy, today, user_id=person.id)
if not mine:
    st.info("You hold no role, so no training is required of you.")
else:
    late = [s for s in mine if s.is_overdue]
    if late:
        st.warning(
            f"{len(late)} of your {len(mine)} courses are overdue: "
            + ", ".join(s.course_title for s in late)
            + "."
        )
    status_table(mine, with_person=False, key="training_mine")

with st.form("training_self", clear_on_submit=True):
    st.markdown("**Record a course you completed**")
    course = st.selectbox(
        "Course", rules.courses, format_func=course_title, key="training_course"
    )
    day = st.date_input(
        "Completed on", value=today, max_value=today, key="training_day"
    )
    if st.form_submit_button("Record my completion", type="primary"):
        act(
            partial(
                record_completion,
                engine,
                policy,
                actor_id=person.id,
                user_id=person.id,
                course=course,
                completed_on=day,
            ),
            f"Recorded: {course_title(course)} completed on {day}.",
        )

if not set(person.roles) & set(OVERSEER_ROLES):
    st.stop()

st.subheader("The team")
try:
    team = team_training_status(engine, policy, today, viewer_id=person.id)
except GovernanceError as exc:
    st.error(str(exc))
    st.stop()
summary = training_compliance(engine, policy, today)
left, middle, right = st.columns(3)
left.metric("Team members", summary.members)
middle.metric("With an overdue course", summary.members_overdue)
right.metric("Overdue courses", summary.overdue_total)
st.dataframe(
    {
        "Course": [c.title for c in summary.courses],
        "Current": [c.current for c in summary.courses],
        "Due": [c.due for c in summary.courses],
        "Overdue": [c.overdue for c in summary.courses],
    },
    hide_index=True,
)
status_table(team, with_person=True, key="training_team")

if "admin" not in person.roles:
    st.caption("An administrator records completions for other people here.")
    st.stop()

people = {p.id: p.display_name for p in list_people(engine) if p.roles}
with st.form("training_for_someone", clear_on_submit=True):
    st.markdown("**Record a completion for someone**")
    user_id = st.selectbox(
        "Person", list(people), format_func=people.__getitem__, key="training_person"
    )
    course = st.selectbox(
        "Course", rules.courses, format_func=course_title, key="training_team_course"
    )
    day = st.date_input(
        "Completed on", value=today, max_value=today, key="training_team_day"
    )
    if st.form_submit_button("Record the completion"):
        act(
            partial(
                record_completion,
                engine,
                policy,
                actor_id=person.id,
                user_id=user_id,
                course=course,
                completed_on=day,
            ),
            f"Recorded: {people[user_id]} completed {course_title(course)} on {day}.",
        )
