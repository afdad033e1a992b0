"""Inventory: every governed model with its stage, risk, owner and open incidents."""

from datetime import UTC, datetime

import streamlit as st

from governance.inventory import STAGE_TITLES, filter_inventory, list_inventory
from governance.operations.calendar import overdue_reviews
from ui.context import store

_, engine, policy = store()
st.title("Model inventory")
overdue = overdue_reviews(engine, policy, today=datetime.now(UTC).date())
if overdue:
    st.warning(
        f"{len(overdue)} scheduled review(s) overdue: "
        + "; ".join(f"{t.title} of {t.scope} ({t.period.label})" for t in overdue[:3])
        + ("…" if len(overdue) > 3 else ""),
        icon="⏰",
    )
    st.page_link("views/calendar.py", label="Open the review calendar", icon="📅")
st.caption(
    "Every model the console governs. Risk level comes from the latest assessment of "
    "the newest version; a model never assessed shows as unassessed."
)

rows = list_inventory(engine)
if not rows:
    st.info(
        "No models are governed yet. Build the demo with `python -m governance demo`, "
        "or register your own model as the README explains."
    )
    st.stop()

left, middle, right = st.columns([2, 1, 1])
text = left.text_input(
    "Search", placeholder="name, description or owner", key="inventory_search"
)
stages = middle.multiselect(
    "Stage",
    list(STAGE_TITLES),
    format_func=STAGE_TITLES.__getitem__,
    key="inventory_stages",
)
risks = right.multiselect(
    "Risk level", ["low", "medium", "high", "unassessed"], key="inventory_risks"
)
shown = filter_inventory(
    rows, text=text, stages=tuple(stages), risk_levels=tuple(risks)
)

total, versions, incidents = st.columns(3)
total.metric("Models", len(rows))
versions.metric("Versions", sum(row.version_count for row in rows))
incidents.metric("Open incidents", sum(row.open_incidents for row in rows))

table = {
    "Model": [row.name for row in shown],
    "Latest version": [row.latest_version for row in shown],
    "Versions": [row.version_count for row in shown],
    "Stage": [STAGE_TITLES.get(row.stage or "", "—") for row in shown],
    "Risk": [row.risk_level or "unassessed" for row in shown],
    "Owner": [row.owner for row in shown],
    "Last assessed": [row.last_assessed_at for row in shown],
    "Open incidents": [row.open_incidents for row in shown],
}
event = st.dataframe(
    table,
    hide_index=True,
    on_select="rerun",
    selection_mode="single-row",
    key="inventory_table",
    column_config={
        "Last assessed": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")
    },
)
st.caption(f"{len(shown)} of {len(rows)} models. Select a row to open the model.")

if event.selection.rows:
    st.session_state["model_name"] = shown[event.selection.rows[0]].name
    st.switch_page("views/model.py")
