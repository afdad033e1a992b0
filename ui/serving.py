"""The rollout step's shadow or canary evidence, as the Deployment page shows it."""

from __future__ import annotations

from functools import partial

import streamlit as st
from sqlalchemy import Engine

from governance.access import Person
from governance.operations.serving import (
    compute_serving_evidence,
    serving_evidence_of,
    summary_lines,
)
from governance.policy import Policy
from ui.signoff import act, may


def step_evidence_panel(
    engine: Engine, policy: Policy, person: Person, version_id: int, step: str
) -> None:
    """The latest evidence of ``step`` (``shadow``, ``canary-10``...) and a form
    that computes it from a prediction log."""
    st.markdown(f"**Evidence for {step}** (from the serving platform's log)")
    latest = next(
        (
            item
            for item in serving_evidence_of(engine, version_id)
            if item.step_label == step
        ),
        None,
    )
    if latest is None:
        st.warning(f"No evidence for {step} yet: the next step needs it.")
    else:
        lines = summary_lines(latest)
        (st.success if latest.passed else st.error)(lines[0])
        for line in lines[2:]:
            st.text(line)
        st.page_link("views/serving.py", label="Open the evidence in detail")
    if not may(person, "serving.evidence"):
        return
    log_path = st.text_input(
        "Prediction log (CSV, Parquet or Delta path)", key="deployment_log"
    ).strip()
    baseline = ""
    if step == "shadow":
        baseline = st.text_input(
            "Compare with version (empty: the version in production)",
            key="deployment_baseline",
        )
    if st.button(f"Compute {step} evidence", key="deployment_evidence"):
        act(
            partial(
                compute_serving_evidence,
                engine,
                actor_id=person.id,
                policy=policy,
                version_id=version_id,
                log_reference=log_path,
                baseline_version=baseline.strip() or None,
            ),
            f"{step} evidence computed from {log_path}.",
        )
