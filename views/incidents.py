"""Incidents: report one, work its playbook to closure, follow its timeline."""

from functools import partial

import streamlit as st

from governance.access import ROLE_TITLES
from governance.operations.incidents import (
    KINDS,
    close_incident,
    complete_step,
    get_incident,
    incident_timeline,
    incidents_table,
    list_incidents,
    playbook_table,
    reopen_incident,
    report_incident,
    reportable_versions,
    start_rollback,
    timeline_table,
)
from governance.workflow.rollout import MlflowRegistryWriter
from ui.context import acting_person, store
from ui.signoff import act, show_flash, signed_in_or_stop, user_text

settings, engine, policy = store()
st.title("Incidents")
show_flash()
person = signed_in_or_stop(acting_person())
limits = policy.incidents

with st.expander("Report an incident", expanded=False):
    versions = reportable_versions(engine)
    labels = dict(versions)
    with st.form("incident_report", clear_on_submit=False):
        version_id = st.selectbox(
            "Affected model version", list(labels), format_func=labels.__getitem__
        )
        kind = st.selectbox("Kind", KINDS, key="incident_kind")
        severity = st.selectbox("Severity", limits.severities, key="incident_severity")
        description = st.text_area(
            f"What happened (up to {limits.max_description_chars:,} characters)",
            key="incident_description",
        )
        links = st.text_area(
            "Evidence links, one per line (https URLs or references like audit:1234)",
            key="incident_links",
        )
        if st.form_submit_button("Report", type="primary"):
            act(
                partial(
                    report_incident,
                    engine,
                    policy,
                    actor_id=person.id,
                    model_version_id=version_id or 0,
                    kind=kind,
                    severity=severity,
                    description=description,
                    evidence_links=links.splitlines(),
                ),
                "Incident reported.",
            )

show_closed = st.toggle("Show closed incidents", key="incident_show_closed")
incidents = list_incidents(engine, include_closed=show_closed)
if not incidents:
    st.success("No open incidents.")
    st.stop()
st.dataframe(incidents_table(incidents), hide_index=True, key="incident_table")

titles = {item.id: f"#{item.id} {item.kind} on {item.model_name}" for item in incidents}
chosen = st.selectbox(
    "Incident", list(titles), format_func=titles.__getitem__, key="incident_selected"
)
incident = get_incident(engine, chosen)
st.subheader(f"Incident {incident.id}: {incident.kind}, {incident.severity}")
st.caption(
    f"{incident.model_name} version {incident.version} · reported by "
    f"{incident.reported_by} on {incident.reported_at:%Y-%m-%d %H:%M} UTC · "
    f"{incident.status} · handled by {ROLE_TITLES[incident.handled_by]}"
)
user_text("Description", incident.description)
user_text("Evidence", "\n".join(incident.evidence_links) or None)

st.dataframe(playbook_table(incident), hide_index=True, key="incident_steps")


def work_on(action, success: str, **fields) -> None:
    """Run a playbook action on the chosen incident as the signed-in person."""
    act(
        partial(
            action,
            engine,
            policy,
            actor_id=person.id,
            incident_id=incident.id,
            **fields,
        ),
        success,
    )


following = incident.next_step
if incident.handled_by not in person.roles:
    st.info(f"Only the {ROLE_TITLES[incident.handled_by]} works this playbook.")
elif incident.is_open and following is not None:
    # A new step starts with an empty note, not the one just recorded.
    if st.session_state.get("incident_note_for") != (incident.id, following.step):
        st.session_state["incident_note_for"] = (incident.id, following.step)
        st.session_state["incident_step_note"] = ""
    note = st.text_area(f"Note for '{following.title}'", key="incident_step_note")
    if st.button(f"Mark '{following.title}' done", key="incident_step_done"):
        work_on(
            complete_step,
            f"Step '{following.title}' done.",
            step=following.step,
            note=note,
        )
    rollback_step = limits.playbooks[incident.kind].rollback_step  # type: ignore[index]
    may_roll_back = following.step == rollback_step and not following.rollout_step_id
    if may_roll_back and st.button("Roll production back", key="incident_rollback"):
        work_on(
            start_rollback,
            "Production rolled back; the rollout step is linked to this step.",
            reason=note or f"Rollback for incident {incident.id}.",
            registry=MlflowRegistryWriter(settings.mlflow_tracking_uri),
        )
elif incident.is_open:
    closing = st.text_area("Closing note", key="incident_close_note")
    if st.button("Close the incident", key="incident_close", type="primary"):
        work_on(close_incident, f"Incident {incident.id} closed.", note=closing)
else:
    reason = st.text_area("Why reopen it", key="incident_reopen_reason")
    steps = [s.step for s in incident.steps]
    first = st.selectbox("Reopen from step", steps, index=len(steps) - 1)
    if st.button("Reopen the incident", key="incident_reopen"):
        work_on(
            reopen_incident,
            f"Incident {incident.id} reopened.",
            reason=reason,
            from_step=first,
        )

st.subheader("Timeline")
timeline = incident_timeline(engine, incident.id)
st.dataframe(timeline_table(timeline), hide_index=True, key="incident_timeline")
