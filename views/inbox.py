"""My work: what waits for the signed-in person under the roles they hold now."""

from datetime import UTC, datetime

import streamlit as st

from governance.errors import GovernanceError
from governance.signoff import is_overdue
from governance.workflow import inbox
from ui.alerts import alerts_section
from ui.context import acting_person, store
from ui.signoff import open_version, signed_in_or_stop

PAGE_OF_ACTION = {
    "approval.decide": "views/review.py",
    "approval.request": "views/request.py",
    "rollout.step": "views/deployment.py",
    "review.complete": "views/calendar.py",
    "incident.step": "views/incidents.py",
    "retraining.link_version": "views/monitoring.py",
    "retraining.decline": "views/monitoring.py",
}

settings, engine, policy = store()
st.title("My work")
person = signed_in_or_stop(acting_person())
st.caption(
    f"What waits for {person.display_name} ({person.role_titles}), oldest first. "
    f"An item waiting more than {settings.overdue_days} days is overdue."
)
alerts_section(engine, person, key="inbox_alerts")
st.subheader("Work")
try:
    items = inbox(engine, policy, person.id)
except GovernanceError as exc:
    st.error(str(exc))
    st.stop()
if not items:
    st.success("Nothing waits for you.")
    st.stop()

now = datetime.now(UTC)
overdue = [is_overdue(item, now, settings.overdue_days) for item in items]
if any(overdue):
    st.warning(
        f"{sum(overdue)} of {len(items)} items have waited more than "
        f"{settings.overdue_days} days."
    )
st.dataframe(
    {
        "Overdue": ["⚠ overdue" if late else "" for late in overdue],
        "What": [item.what for item in items],
        "Model": [item.model_name for item in items],
        "Version": [item.version for item in items],
        "Waiting since": [item.waiting_since for item in items],
        "Days waiting": [(now - item.waiting_since).days for item in items],
    },
    hide_index=True,
    key="inbox_table",
)

labels = [f"{item.what} — {item.model_name} {item.version}" for item in items]
chosen = st.selectbox(
    "Open an item", range(len(items)), format_func=labels.__getitem__, key="inbox_item"
)
if st.button("Open", key="inbox_open", type="primary"):
    item = items[chosen]
    page = PAGE_OF_ACTION.get(item.action, "views/review.py")
    if item.action in ("review.complete", "incident.step"):
        st.switch_page(PAGE_OF_ACTION[item.action])
    if item.action.startswith("post_deployment."):
        page = "views/deployment.py"
    if item.action == "training.complete":
        st.switch_page("views/training.py")
    open_version(item.model_name, item.version, page)
