"""Widgets of the monitoring page: the prediction log and the retraining request."""

from __future__ import annotations

from functools import partial

import streamlit as st
from sqlalchemy import Engine

from governance.access import Person
from governance.operations.monitoring import log_location, set_log_location
from governance.operations.retraining import (
    decline_request,
    link_version,
    linkable_versions,
    requests_of_model,
)
from governance.operations.triggers import TRIGGER_TITLES
from ui.signoff import act, may


def log_section(engine: Engine, person: Person, model: str) -> None:
    """Where the model's prediction log is read from; ML engineers may change it."""
    st.subheader("Prediction log")
    location = log_location(engine, model)
    st.text(location or "No prediction log configured yet.")
    if may(person, "monitoring.configure_log"):
        with st.form("mon_log_form"):
            new_location = st.text_input(
                "Log location (CSV, Parquet, or a Delta table folder)",
                value=location or "",
                key="mon_log",
            )
            if st.form_submit_button("Save the log location"):
                act(
                    partial(
                        set_log_location,
                        engine,
                        actor_id=person.id,
                        model_name=model,
                        location=new_location,
                    ),
                    f"Prediction log of {model} saved.",
                )


def retraining_section(engine: Engine, person: Person, model: str) -> None:
    """The model's latest retraining request, its triggers, and what may be done."""
    st.subheader("Retraining")
    requests = requests_of_model(engine, model)
    if not requests:
        st.success(f"No trigger has fired for {model}; no retraining was requested.")
    for request in requests[:1]:
        linked = f"version {request.linked_version} ({request.linked_stage})"
        st.write(
            f"Request {request.id} for version {request.version}: **{request.status}**, "
            f"opened {request.opened_at:%Y-%m-%d}; "
            + (linked if request.linked_version else "no retrained version linked yet")
            + (
                f", change class {request.linked_change_class}."
                if request.linked_change_class
                else "."
            )
        )
        st.text(request.close_reason or request.reason)
        st.dataframe(
            {
                "Window": [t.window_label or "schedule" for t in request.triggers],
                "Trigger": [TRIGGER_TITLES[t.kind] for t in request.triggers],
                "On": [t.subject for t in request.triggers],
                "Value": [t.value for t in request.triggers],
                "Threshold": [t.threshold for t in request.triggers],
                "Incident": [t.incident_id for t in request.triggers],
            },
            hide_index=True,
            key="mon_triggers",
        )
        candidates = dict(linkable_versions(engine, request.id))
        if request.is_open and may(person, "retraining.link_version") and candidates:
            chosen = st.selectbox(
                "Retrained version",
                list(candidates),
                format_func=candidates.get,
                key="mon_link_choice",
            )
            if st.button("Link this version", key="mon_link"):
                act(
                    partial(
                        link_version,
                        engine,
                        actor_id=person.id,
                        request_id=request.id,
                        version_id=chosen,
                        expected_row_version=request.row_version,
                    ),
                    f"Version {candidates[chosen]} linked to request {request.id}.",
                )
        if request.is_open and may(person, "retraining.decline"):
            reason = st.text_area("Reason for declining", key="mon_decline_reason")
            if st.button("Decline the request", key="mon_decline"):
                act(
                    partial(
                        decline_request,
                        engine,
                        actor_id=person.id,
                        request_id=request.id,
                        reason=reason,
                        expected_row_version=request.row_version,
                    ),
                    f"Retraining request {request.id} declined.",
                )
