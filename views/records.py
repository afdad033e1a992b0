"""Retention and backup: record classes against their retention, holds, purge, archives."""

from datetime import UTC, datetime

import streamlit as st

from governance.errors import GovernanceError
from governance.records.retention import (
    HOLD_SUBJECTS,
    list_archives,
    list_holds,
    plan_purge,
    purge_history,
    retention_status,
    run_purge,
)
from ui.context import acting_person, store
from ui.records import backup_panel, hold_forms
from ui.signoff import show_flash

settings, engine, policy = store()
st.title("Retention and backup")
show_flash()
person = acting_person()
roles = set(person.roles) if person else set()
today = datetime.now(UTC).date()

st.subheader("Retention by record class")
statuses = retention_status(engine, policy)
st.dataframe(
    {
        "Record class": [s.label for s in statuses],
        "Kept (years)": [s.years for s in statuses],
        "Clock runs": [s.note for s in statuses],
        "Records": [s.records for s in statuses],
        "Oldest": [f"{s.oldest:%Y-%m-%d}" if s.oldest else "-" for s in statuses],
        "First due": [str(s.becomes_due or "-") for s in statuses],
    },
    hide_index=True,
    key="records_status",
)

st.subheader("Legal holds")
holds = list_holds(engine)
if holds:
    st.dataframe(
        {
            "Hold": [h.id for h in holds],
            "Subject": [HOLD_SUBJECTS[h.subject_type] for h in holds],
            "Held": [h.subject_id or f"from {h.held_from}" for h in holds],
            "Reason": [h.reason for h in holds],
            "Placed": [f"{h.placed_at:%Y-%m-%d}" for h in holds],
            "Released": [
                f"{h.released_at:%Y-%m-%d}" if h.released_at else "" for h in holds
            ],
        },
        hide_index=True,
        key="records_holds",
    )
else:
    st.caption("No legal holds.")

is_officer = "compliance_officer" in roles
if is_officer and person is not None:
    hold_forms(engine, person.id, holds, today)

st.subheader("Purge what is past retention")
as_of = st.date_input("Purge as of", value=today, max_value=today, key="records_as_of")
try:
    plan = plan_purge(engine, policy, as_of=as_of)
except GovernanceError as exc:
    st.error(str(exc))
    st.stop()
st.text(plan.describe())
if is_officer and person is not None and not plan.is_empty:
    sure = st.checkbox(
        "I understand the records listed above are deleted for good.",
        key="records_confirm",
    )
    if st.button("Purge", type="primary", disabled=not sure, key="records_purge"):
        try:
            result, verification = run_purge(
                settings, engine, policy, actor_id=person.id, as_of=as_of
            )
        except GovernanceError as exc:
            st.error(str(exc))
        else:
            done = st.success if verification.is_intact else st.error
            done(f"Purge {result.purge_id} done. {verification.describe()}")
elif not is_officer:
    st.caption("A compliance officer places legal holds and purges.")

history = purge_history(engine)
if history:
    st.dataframe(
        {
            "Purge": [p.id for p in history],
            "As of": [str(p.as_of) for p in history],
            "Audit events up to": [p.up_to_seq for p in history],
            "Deleted": [str(p.counts) for p in history],
            "At": [f"{p.purged_at:%Y-%m-%d %H:%M}" for p in history],
        },
        hide_index=True,
        key="records_purges",
    )

st.subheader("Archives of retired models")
archives = list_archives(engine)
if not archives:
    st.caption("No model has been retired yet.")
for archive in archives:
    path = settings.home / archive.path
    st.text(f"{archive.model_name}: {archive.path} (sha256 {archive.sha256})")
    if path.exists():
        st.download_button(
            f"Download the archive of {archive.model_name}",
            path.read_bytes(),
            file_name=path.name,
            mime="application/zip",
            key=f"records_archive_{archive.id}",
        )

if "admin" in roles:
    backup_panel(settings)
