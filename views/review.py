"""Review and decide: stage sign-offs, and approve or reject on the bound evidence."""

from functools import partial

import streamlit as st

from governance.access import ROLE_TITLES
from governance.errors import GovernanceError
from governance.signoff import display_names, evidence_snapshot
from governance.workflow import approve_request, reject_request, requests_of_version
from ui.context import acting_person, store
from ui.selection import choose_version
from ui.signoff import act, show_flash, signed_in_or_stop, user_text
from ui.stage_forms import stage_actions

settings, engine, policy = store()
st.title("Review and decide")
show_flash()
person = signed_in_or_stop(acting_person())
chosen = choose_version(engine, key="review")
if chosen is None:
    st.stop()
name, row = chosen
names = display_names(engine)

st.subheader(f"Stage: {row.stage.replace('_', ' ')}")
if row.stage in ("development", "risk_assessment", "compliance_check"):
    stage_actions(settings, engine, policy, person, row)
elif row.stage == "approval":
    st.caption("Approval is requested on the Request approval page.")

pending = next(
    (r for r in requests_of_version(engine, row.id) if r.status == "pending"), None
)
st.subheader("Approval request")
if pending is None:
    st.info(f"No approval request of {name} version {row.version} is pending.")
    st.stop()

st.write(
    f"Request {pending.id} by {names.get(pending.requested_by, pending.requested_by)}: "
    f"risk level **{pending.risk_level}**, change class **{pending.change_class}**."
)
user_text("Purpose", pending.purpose)
user_text("Changes", pending.changes)
user_text("Risk summary", pending.risk_summary)
user_text("Risk mitigation plan", pending.mitigation_plan)
if pending.is_stale:
    st.error("Stale: " + "; ".join(pending.stale_reasons) + ".")

try:
    snapshot = evidence_snapshot(engine, pending)
except GovernanceError as exc:
    st.error(str(exc))
    st.stop()
st.markdown("**Evidence being approved**")
left, middle, right = st.columns(3)
left.metric("Assessment", snapshot.assessment_id)
score = snapshot.risk_score
middle.metric(
    "Risk", f"{snapshot.risk_level}" + (f" ({score:.2f})" if score is not None else "")
)
right.metric("Policy version", snapshot.policy_version)
st.caption(f"Artifact digest (SHA-256): {snapshot.artifact_digest or 'none'}")
st.dataframe(
    {
        "Standard": [item.name for item in snapshot.standards],
        "Value": [item.value for item in snapshot.standards],
        "Threshold": [item.threshold for item in snapshot.standards],
        "Met": [item.passed for item in snapshot.standards],
        "Detail": [item.detail for item in snapshot.standards],
    },
    hide_index=True,
    key="review_standards",
)

if pending.decisions:
    st.markdown("**Decisions so far**")
    st.dataframe(
        {
            "Approver": [
                names.get(d.approver_id, d.approver_id) for d in pending.decisions
            ],
            "Role": [ROLE_TITLES[d.role] for d in pending.decisions],
            "Decision": [d.decision for d in pending.decisions],
            "Comment": [d.comment for d in pending.decisions],
            "At": [d.decided_at for d in pending.decisions],
        },
        hide_index=True,
        key="review_decisions",
    )
st.caption(
    "Waiting for: "
    + (", ".join(ROLE_TITLES[r] for r in pending.open_roles) or "no one")
)

decided = {d.approver_id for d in pending.decisions}
fitting = [role for role in pending.open_roles if role in person.roles]
if pending.requested_by == person.id:
    st.info("You requested this approval, so you do not decide it.")
elif person.id in decided or not fitting:
    st.caption("None of your roles fills an open approval slot of this request.")
else:
    role = st.selectbox(
        "Decide as", fitting, format_func=ROLE_TITLES.__getitem__, key="review_role"
    )
    comment = st.text_area("Comment (required to reject)", key="review_comment")
    decide = {
        "actor_id": person.id,
        "request_id": pending.id,
        "expected_row_version": pending.row_version,
        "comment": comment,
        "as_role": role,
    }
    approve, reject = st.columns(2)
    if approve.button("Approve", key="review_approve", type="primary"):
        act(
            partial(approve_request, engine, **decide),
            f"Your approval of request {pending.id} is recorded.",
        )
    if reject.button("Reject", key="review_reject"):
        act(
            partial(reject_request, engine, **decide),
            f"Request {pending.id} rejected; the version returns to development.",
        )
