"""Deployment: the gate, the checklists, the staged rollout and the rollback."""

from functools import partial

import streamlit as st

from governance.inventory import list_versions
from governance.operations.serving import PHASES
from governance.signoff import display_names, registry_writer
from governance.workflow import (
    advance_rollout,
    deployment_gate,
    post_deployment_checklist,
    pre_deployment_checklist,
    rollback,
    rollout_plan,
    rollout_status,
    tick_post_deployment,
)
from governance.workflow.checklists import ROLLOUT_STAGES
from governance.workflow.rollout import shadow_overstay_of
from ui.context import acting_person, store
from ui.selection import choose_version
from ui.serving import step_evidence_panel
from ui.signoff import act, checklist_table, may, show_flash, signed_in_or_stop

settings, engine, policy = store()
st.title("Deployment")
show_flash()
person = signed_in_or_stop(acting_person())
chosen = choose_version(
    engine,
    key="deployment",
    worth_showing=lambda model: [
        row.version
        for row in list_versions(engine, model)
        if row.stage in ROLLOUT_STAGES
    ],
)
if chosen is None:
    st.stop()
name, row = chosen
names = display_names(engine)
registry = registry_writer(settings)
st.caption(
    f"{name} version {row.version} is in stage **{row.stage.replace('_', ' ')}**. "
    + (
        "Each step is mirrored to MLflow as aliases and tags."
        if registry
        else "No MLflow store: steps are recorded here only, not mirrored."
    )
)


gate = deployment_gate(engine, row.id)
if row.stage == "deployment":
    if gate.is_open:
        st.success("The deployment gate is open: nothing blocks the rollout.")
    else:
        st.error("The deployment is blocked:")
        for blocker in gate.blockers:
            st.text(f"• {blocker}")

st.subheader("Pre-deployment checklist")
checklist_table(pre_deployment_checklist(engine, row.id), names, key="deployment_pre")

st.subheader("Rollout")
status = rollout_status(engine, policy, row.id)
st.dataframe(
    {"Step": [label for label, _ in status], "Taken at": [at for _, at in status]},
    hide_index=True,
    key="deployment_rollout",
)
taken = sum(1 for _, at in status if at is not None)
plan = rollout_plan(policy)
current = status[taken - 1][0] if taken else None
overstay = shadow_overstay_of(engine, policy, row.id)
if overstay is not None:
    st.warning(overstay.describe())
if row.stage == "deployment" and current and current.startswith(PHASES):
    step_evidence_panel(engine, policy, person, row.id, current)
if row.stage == "deployment" and taken < len(plan) and may(person, "rollout.step"):
    target = plan[taken]
    note = st.text_input("Note for this step", key="deployment_note")
    if st.button(
        f"Take the next step: {target.label}", key="deployment_step", type="primary"
    ):
        act(
            partial(
                advance_rollout,
                engine,
                actor_id=person.id,
                policy=policy,
                version_id=row.id,
                step=target.step,
                percentage=target.percentage,
                registry=registry,
                note=note,
            ),
            f"{name} version {row.version}: {target.label} recorded.",
        )

if row.stage in ROLLOUT_STAGES:
    st.subheader("Post-deployment checklist")
    items = post_deployment_checklist(engine, row.id)
    checklist_table(items, names, key="deployment_post")
    for item in items:
        if item.is_done or not may(person, f"post_deployment.{item.key}"):
            continue
        if st.button(f"Tick: {item.title}", key=f"deployment_tick_{item.key}"):
            act(
                partial(
                    tick_post_deployment,
                    engine,
                    actor_id=person.id,
                    version_id=row.id,
                    item=item.key,
                ),
                f"{item.title}: ticked.",
            )

if row.stage == "production" and may(person, "rollout.rollback"):
    st.subheader("Roll back")
    reason = st.text_input("Reason for the rollback", key="deployment_rollback_reason")
    if st.button(
        "Roll back to the previous production version", key="deployment_rollback"
    ):
        act(
            partial(
                rollback,
                engine,
                actor_id=person.id,
                model_name=name,
                reason=reason,
                registry=registry,
            ),
            f"{name} rolled back; the previous version is in production again.",
        )
