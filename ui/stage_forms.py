"""The stage actions of the review page: one small form per sign-off.

Each form is drawn only for a person whose roles allow it; the domain checks the
permission again when the form is sent.
"""

from __future__ import annotations

from functools import partial

import streamlit as st
from sqlalchemy import Engine

from governance.access import Person
from governance.inventory import VersionRow
from governance.policy import Policy
from governance.settings import Settings
from governance.signoff import assess_security, has_security_assessment, signoffs_done
from governance.workflow import (
    DOCUMENTATION_SECTIONS,
    SECURITY_QUESTIONS,
    advance_stage,
    complete_documentation,
    missing_for_next_stage,
    record_compliance_validation,
    record_documentation_review,
    record_internal_review,
    record_regulatory_check,
    verify_audit_trail,
)
from governance.workflow.stages import ADVANCE_PERMISSION
from ui.signoff import act, may

ADVANCE = ADVANCE_PERMISSION


def stage_actions(
    settings: Settings, engine: Engine, policy: Policy, person: Person, row: VersionRow
) -> None:
    """What is missing in the version's stage, and the forms the person may use."""
    missing = missing_for_next_stage(engine, row.id)
    done = signoffs_done(engine, row.id)
    if missing:
        st.warning("Still missing in this stage: " + "; ".join(missing) + ".")
    elif row.stage in ADVANCE:
        st.success("Everything this stage asks for is recorded.")
    if row.stage == "development":
        _development(engine, person, row, done)
    elif row.stage == "risk_assessment":
        _risk_assessment(settings, engine, policy, person, row)
    elif row.stage == "compliance_check":
        _compliance_check(engine, person, row, done)
    _advance(engine, policy, person, row, missing)


def _development(engine: Engine, person: Person, row: VersionRow, done: dict) -> None:
    if "documentation" not in done and may(
        person, "development.complete_documentation"
    ):
        with st.form("stage_documentation"):
            st.markdown("**Documentation** (data scientist)")
            sections = {
                key: st.text_area(title, key=f"doc_{key}")
                for key, title in DOCUMENTATION_SECTIONS.items()
            }
            if st.form_submit_button("Mark the documentation done"):
                act(
                    partial(
                        complete_documentation,
                        engine,
                        actor_id=person.id,
                        version_id=row.id,
                        sections=sections,
                    ),
                    "Documentation recorded.",
                )
    if (
        "documentation" in done
        and "internal_review" not in done
        and may(person, "development.internal_review")
    ):
        _comment_form(
            "stage_internal_review",
            "**Internal review** (ML engineer, not the author)",
            partial(
                record_internal_review, engine, actor_id=person.id, version_id=row.id
            ),
            "Internal review recorded.",
        )


def _risk_assessment(
    settings: Settings, engine: Engine, policy: Policy, person: Person, row: VersionRow
) -> None:
    if row.risk_level is None:
        st.info("Assess the version on the Model overview page (Assess button).")
    if has_security_assessment(engine, row.id) or not may(
        person, "risk.security_assessment"
    ):
        return
    with st.form("stage_security"):
        st.markdown("**Security assessment** (security officer)")
        st.caption(
            "The model's artifact files are fetched from MLflow and scanned for "
            "imports that would run code on load; nothing is loaded or run."
        )
        answers = {
            key: st.checkbox(question, key=f"security_{key}")
            for key, question in SECURITY_QUESTIONS.items()
        }
        note = st.text_area("Note", key="security_note")
        if st.form_submit_button("Scan the artifacts and record the assessment"):
            act(
                partial(
                    assess_security,
                    settings,
                    engine,
                    policy,
                    actor_id=person.id,
                    version_id=row.id,
                    answers=answers,
                    note=note,
                ),
                "Security assessment recorded.",
            )


def _compliance_check(
    engine: Engine, person: Person, row: VersionRow, done: dict
) -> None:
    if not may(person, "compliance.validation"):
        return
    ids = {"actor_id": person.id, "version_id": row.id}
    if "compliance_validation" not in done:
        _comment_form(
            "stage_compliance_validation",
            "**Compliance validation**",
            partial(record_compliance_validation, engine, **ids),
            "Compliance validation recorded.",
        )
    if "documentation_review" not in done:
        _comment_form(
            "stage_documentation_review",
            "**Documentation review**",
            partial(record_documentation_review, engine, **ids),
            "Documentation review recorded.",
        )
    if "audit_trail_verification" not in done and st.button(
        "Verify the audit trail now", key="stage_verify_audit"
    ):
        act(
            partial(verify_audit_trail, engine, **ids),
            "Audit trail verified and signed off.",
        )
    if "regulatory_check" not in done:
        with st.form("stage_regulatory_check"):
            st.markdown("**Regulatory check**")
            regulations = st.text_input("Regulations checked (comma separated)", "GDPR")
            comment = st.text_area("Comment", key="regulatory_comment")
            if st.form_submit_button("Record the regulatory check"):
                act(
                    partial(
                        record_regulatory_check,
                        engine,
                        regulations=regulations.split(","),
                        comment=comment,
                        **ids,
                    ),
                    "Regulatory check recorded.",
                )


def _comment_form(key: str, title: str, record: partial, success: str) -> None:
    with st.form(key):
        st.markdown(title)
        comment = st.text_area("Comment", key=f"{key}_comment")
        if st.form_submit_button("Record"):
            act(partial(record, comment=comment), success)


def _advance(
    engine: Engine, policy: Policy, person: Person, row: VersionRow, missing: list[str]
) -> None:
    action = ADVANCE.get(row.stage)
    if action is None or missing or not may(person, action):
        return
    if st.button("Move to the next stage", key="stage_advance", type="primary"):
        act(
            partial(
                advance_stage,
                engine,
                actor_id=person.id,
                policy=policy,
                version_id=row.id,
            ),
            f"{row.stage.replace('_', ' ').capitalize()} complete; moved on.",
        )
