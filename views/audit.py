"""Audit trail: filter, page through, export and verify the hash-chained events."""

import streamlit as st

from governance.access import list_people
from governance.errors import GovernanceError
from governance.inventory import list_inventory, list_versions
from governance.records.checkpoints import (
    audit_key,
    read_checkpoints,
    verify_audit_trail,
)
from governance.records.explorer import (
    AuditFilter,
    day_range,
    event_types,
    events_page,
    export_csv,
    export_jsonl,
)
from ui.context import store

PAGE_SIZE = 50
ANY = "(any)"

settings, engine, _ = store()
st.title("Audit trail")
st.caption(
    "Every change in the console writes an event in the same transaction. Each event "
    "carries the SHA-256 hash of the one before it, and signed checkpoints of the "
    "chain's head are kept outside the database, so an altered, removed, inserted or "
    "rewritten event is found at its sequence number."
)

left, right = st.columns([3, 1])
if right.button("Verify the chain", key="audit_verify", type="primary"):
    try:
        result = verify_audit_trail(settings, engine)
    except GovernanceError as exc:
        st.error(str(exc))
    else:
        (st.success if result.is_intact else st.error)(result.describe())
checkpoints = read_checkpoints(settings.audit_checkpoint_dir)
left.caption(
    f"Latest signed checkpoint: event #{checkpoints[-1].seq}, "
    f"{checkpoints[-1].created_at}."
    if checkpoints
    else "No signed checkpoint yet: schedule `python -m governance audit checkpoint`."
)

people = {person.id: person for person in list_people(engine, include_system=True)}
models = [row.name for row in list_inventory(engine)]
top = st.columns(3)
model = top[0].selectbox("Model", [ANY, *models], key="audit_model")
versions = [row.version for row in list_versions(engine, model)] if model != ANY else []
version = top[1].selectbox(
    "Version", [ANY, *versions], key="audit_version", disabled=model == ANY
)
actor = top[2].selectbox(
    "Actor",
    [ANY, *people],
    format_func=lambda value: people[value].username if value in people else value,
    key="audit_actor",
)
bottom = st.columns([2, 1, 1])
actions = bottom[0].multiselect("Event type", event_types(engine), key="audit_actions")
first_day = bottom[1].date_input("From (UTC)", value=None, key="audit_from")
last_day = bottom[2].date_input("To (UTC)", value=None, key="audit_to")

try:
    since, until = day_range(first_day, last_day)
    filters = AuditFilter(
        model=None if model == ANY else model,
        version=None if version == ANY or model == ANY else version,
        actor_id=None if actor == ANY else actor,
        actions=tuple(actions),
        since=since,
        until=until,
    )
except GovernanceError as exc:
    st.error(str(exc))
    st.stop()

# The cursors of the pages walked so far, reset whenever the filters change.
if st.session_state.get("audit_filters") != filters:
    st.session_state["audit_filters"], st.session_state["audit_cursors"] = filters, []
cursors: list[int] = st.session_state["audit_cursors"]
page = events_page(
    engine, filters, before=cursors[-1] if cursors else None, size=PAGE_SIZE
)

newer, older, where = st.columns([1, 1, 4])
if newer.button("← Newer", key="audit_newer", disabled=not cursors):
    cursors.pop()
    st.rerun()
if older.button("Older →", key="audit_older", disabled=page.next_before is None):
    cursors.append(page.next_before)
    st.rerun()
where.caption(
    f"Page {len(cursors) + 1}, newest first: events "
    + (
        f"#{page.events[0]['seq']} to #{page.events[-1]['seq']}"
        if page.events
        else "none match"
    )
)

st.dataframe(
    {
        "#": [event["seq"] for event in page.events],
        "When (UTC)": [event["occurred_at"] for event in page.events],
        "Actor": [
            people[event["actor_id"]].username
            if event["actor_id"] in people
            else event["actor_id"]
            for event in page.events
        ],
        "Event type": [event["action"] for event in page.events],
        "Entity": [f"{e['entity_type']}/{e['entity_id']}" for e in page.events],
        "Payload": [event["payload"] for event in page.events],
    },
    hide_index=True,
    key="audit_table",
)

st.subheader("Export")
st.caption(
    "Both files hold the events the filters select, oldest first. The JSONL file "
    "is signed and verifies without the database: `python -m governance audit verify "
    "--file FILE`; a filtered file is verified event by event. The CSV file is for "
    "reading: cells a spreadsheet would run as formulas start with an apostrophe."
)
scope = "filtered" if filters.is_filtered else "all"
csv_column, jsonl_column = st.columns(2)
csv_column.download_button(
    "Download CSV",
    data=lambda: "".join(export_csv(engine, filters)),
    file_name=f"audit-{scope}.csv",
    mime="text/csv",
    key="audit_export_csv",
    on_click="ignore",
)
jsonl_column.download_button(
    "Download JSONL (verifiable)",
    data=lambda: "".join(
        export_jsonl(engine, filters, key=audit_key(settings, create=True))
    ),
    file_name=f"audit-{scope}.jsonl",
    mime="application/jsonl",
    key="audit_export_jsonl",
    on_click="ignore",
)
