"""Audit trail: the newest events and a check of the hash chain."""

import streamlit as st

from governance.audit import recent_events, verify_chain
from ui.context import store

_, engine, _ = store()
st.title("Audit trail")
st.caption(
    "Every change in the console writes an event in the same transaction. Each event "
    "carries the SHA-256 hash of the one before it, so an altered, removed or inserted "
    "event breaks the chain at that point."
)

if st.button("Verify the chain", key="audit_verify"):
    result = verify_chain(engine)
    (st.success if result.is_intact else st.error)(result.describe())

events = recent_events(engine, limit=200)
st.dataframe(
    {
        "#": [event.seq for event in events],
        "When (UTC)": [event.occurred_at for event in events],
        "Actor": [event.actor_id for event in events],
        "Action": [event.action for event in events],
        "Entity": [f"{event.entity_type}/{event.entity_id}" for event in events],
        "Payload": [event.payload for event in events],
    },
    hide_index=True,
    key="audit_table",
)
