"""Review calendar: the framework's review cadence as tasks, overdue first."""

from datetime import UTC, datetime
from functools import partial

import streamlit as st

from governance.operations.calendar import (
    complete_review,
    recent_completions,
    review_tasks,
)
from ui.context import acting_person, store
from ui.signoff import act, show_flash, signed_in_or_stop

STATUS = {"overdue": "⚠ overdue", "due": "due now", "next": "next", "done": "✓ done"}

_, engine, policy = store()
st.title("Review calendar")
show_flash()
person = signed_in_or_stop(acting_person())
today = datetime.now(UTC).date()
st.caption(
    "Daily, weekly (ISO weeks, due on Sunday), monthly and quarterly reviews from the "
    "policy, per model in production and for the whole console. Dates are UTC; a "
    f"review is overdue the day after its due date. Today is {today:%d %b %Y}."
)

tasks = review_tasks(engine, policy, today=today)
if not tasks:
    st.info("Nothing is scheduled: no model is in production yet.")
    st.stop()
overdue = [task for task in tasks if task.is_overdue]
if overdue:
    st.warning(f"{len(overdue)} review(s) overdue.")
st.dataframe(
    {
        "Status": [STATUS[task.status] for task in tasks],
        "Review": [task.title for task in tasks],
        "Of": [task.scope for task in tasks],
        "Period": [task.period.label for task in tasks],
        "Due": [task.period.due_on for task in tasks],
        "Assigned to": [task.role_title for task in tasks],
        "Missed": [str(task.missed) if task.missed else "" for task in tasks],
    },
    hide_index=True,
    key="calendar_tasks",
)

st.subheader("Complete a review")
mine = [
    task
    for task in tasks
    if task.status in ("overdue", "due") and task.role in person.roles
]
if not mine:
    st.info("No review waits for your roles.")
else:
    labels = [
        f"{task.title} of {task.scope} for {task.period.label} ({task.status})"
        for task in mine
    ]
    with st.form("calendar_complete"):
        index = st.selectbox("Review", range(len(mine)), format_func=labels.__getitem__)
        notes = st.text_area("Notes: what was reviewed", key="calendar_notes")
        findings = st.text_area(
            "Findings (leave empty when there are none)", key="calendar_findings"
        )
        if st.form_submit_button("Record the review", type="primary"):
            task = mine[index or 0]
            act(
                partial(
                    complete_review,
                    engine,
                    policy,
                    actor_id=person.id,
                    review=task.review,
                    scope=task.scope,
                    period=task.period.label,
                    notes=notes,
                    findings=findings,
                ),
                f"Recorded: {task.title} of {task.scope} for {task.period.label}.",
            )

st.subheader("Recent completions")
done = recent_completions(engine)
if not done:
    st.caption("No review has been completed yet.")
else:
    st.dataframe(
        {
            "Review": [item.title for item in done],
            "Of": [item.scope for item in done],
            "Period": [item.period for item in done],
            "Due": [item.due_on for item in done],
            "Completed": [item.completed_at for item in done],
            "By": [item.completed_by for item in done],
            "Late": [item.was_late for item in done],
            "Notes": [item.notes for item in done],
            "Findings": [item.findings for item in done],
        },
        hide_index=True,
        key="calendar_done",
    )
