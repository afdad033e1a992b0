"""Request approval: the change class and the framework's approval request template."""

from functools import partial

import streamlit as st

from governance.signoff import display_names
from governance.workflow import (
    APPROVAL_TEMPLATE,
    describe_change,
    record_change_class,
    request_approval,
    requests_of_version,
    resubmit_request,
    withdraw_request,
)
from governance.workflow.changes import CHANGE_CLASSES
from ui.context import acting_person, store
from ui.selection import choose_version
from ui.signoff import act, may, show_flash, signed_in_or_stop

_, engine, policy = store()
st.title("Request approval")
show_flash()
person = signed_in_or_stop(acting_person())
chosen = choose_version(engine, key="request")
if chosen is None:
    st.stop()
name, row = chosen
names = display_names(engine)
st.caption(
    f"{name} version {row.version} is in stage **{row.stage.replace('_', ' ')}**."
)

st.subheader("Change against the version in production")
change = describe_change(engine, row.id)
st.write(f"Computed change class: **{change.change_class}**")
if change.differences:
    st.dataframe(
        {
            "What": [item.description for item in change.differences],
            "Field": [item.field for item in change.differences],
            "Before": [str(item.previous) for item in change.differences],
            "Now": [str(item.candidate) for item in change.differences],
            "Class": [item.change_class for item in change.differences],
        },
        hide_index=True,
        key="request_differences",
    )
if may(person, "change.classify") and row.stage == "approval":
    allowed = CHANGE_CLASSES[CHANGE_CLASSES.index(change.change_class) :]
    stated = st.selectbox(
        "Change class to record (you may raise it, never lower it)",
        allowed,
        key="request_change_class",
    )
    if st.button("Record the change class", key="request_classify"):
        act(
            partial(
                record_change_class,
                engine,
                actor_id=person.id,
                version_id=row.id,
                requested_class=stated,
            ),
            f"Change class {stated} recorded.",
        )

requests = requests_of_version(engine, row.id)
st.subheader("Requests of this version")
if requests:
    st.dataframe(
        {
            "Request": [item.id for item in requests],
            "Status": [item.status for item in requests],
            "Requested by": [names.get(item.requested_by, "") for item in requests],
            "Requested at": [item.requested_at for item in requests],
            "Risk level": [item.risk_level for item in requests],
            "Change class": [item.change_class for item in requests],
            "Approvers": [", ".join(item.required_roles) for item in requests],
            "Rejected because": [
                "; ".join(d.comment for d in item.decisions if d.decision == "rejected")
                for item in requests
            ],
        },
        hide_index=True,
        key="request_history",
    )
else:
    st.caption("No request yet.")

pending = next((item for item in requests if item.status == "pending"), None)
if pending is not None and pending.requested_by == person.id:
    reason = st.text_input("Reason for withdrawing", key="request_withdraw_reason")
    if st.button("Withdraw the pending request", key="request_withdraw"):
        act(
            partial(
                withdraw_request,
                engine,
                actor_id=person.id,
                request_id=pending.id,
                reason=reason,
                expected_row_version=pending.row_version,
            ),
            f"Request {pending.id} withdrawn.",
        )
if pending is None and row.stage == "approval" and may(person, "approval.request"):
    closed = next((r for r in requests if r.status in ("rejected", "withdrawn")), None)
    with st.form("request_form"):
        st.markdown("**Approval request** (framework template)")
        texts = {
            key: st.text_area(label, key=f"request_{key}")
            for key, label in APPROVAL_TEMPLATE.items()
        }
        submitted = st.form_submit_button("Submit the request", type="primary")
    if submitted and closed is not None:
        act(
            partial(
                resubmit_request,
                engine,
                actor_id=person.id,
                policy=policy,
                request_id=closed.id,
                **texts,
            ),
            f"Request {closed.id} resubmitted with today's evidence.",
        )
    elif submitted:
        act(
            partial(
                request_approval,
                engine,
                actor_id=person.id,
                policy=policy,
                version_id=row.id,
                expected_row_version=None,
                **texts,
            ),
            "Approval requested; the approvers see it in their inbox.",
        )
elif row.stage != "approval":
    st.info("Approval is requested once the compliance check is complete.")
