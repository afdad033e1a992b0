"""The assessment panel of the model page: latest verdict, standards, and the job."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import Engine

from governance.access import Person
from governance.assessment.runner import latest_assessment
from governance.errors import GovernanceError
from governance.inventory import VersionRow
from governance.jobs import ACTIVE, ASSESSING_ROLES, latest_job, start_assessment
from governance.review import verdict
from governance.settings import Settings


def assessment_panel(
    settings: Settings,
    engine: Engine,
    person: Person | None,
    model: str,
    row: VersionRow,
) -> None:
    """Show the latest assessment of ``row`` and let a permitted person start one."""
    subject = f"{model}/{row.version}"
    may_assess = person is not None and bool(set(person.roles) & set(ASSESSING_ROLES))
    if st.button(
        f"Assess version {row.version}",
        key="assess_start",
        disabled=not may_assess,
        help=None
        if may_assess
        else "Only a data scientist or an ML engineer starts assessments.",
    ):
        try:
            start_assessment(
                settings, engine, model=model, version=row.version, actor_id=person.id
            )  # type: ignore[union-attr]
        except GovernanceError as exc:
            st.error(str(exc))
    job = latest_job(engine, subject)
    if job is not None and job.status in ACTIVE:
        _job_progress(engine, subject)
    elif job is not None and job.status == "failed":
        st.error(f"The last assessment of {subject} failed: {job.message}")

    assessment = latest_assessment(engine, row.id)
    if assessment is None:
        st.info(
            f"Version {row.version} has not been assessed yet. Start an assessment with the "
            f"button above, or run `python -m governance assess --model {model} "
            f"--version {row.version}`."
        )
        return
    evidence = assessment.evidence
    standards, risk, when = st.columns(3)
    standards.metric("Standards", "all met" if assessment.passed else "not all met")
    risk.metric(
        "Risk level",
        (assessment.risk_level or "—").title(),
        f"score {assessment.risk_score:.2f}",
        delta_color="off",
    )
    when.metric("Assessed (UTC)", f"{assessment.created_at:%Y-%m-%d %H:%M}")
    st.dataframe(
        {
            "Standard": [item["name"] for item in evidence["standards"]],
            "Value": [_shown(item["value"]) for item in evidence["standards"]],
            "Threshold": [str(item["threshold"]) for item in evidence["standards"]],
            "Result": [verdict(item["passed"]) for item in evidence["standards"]],
            "Detail": [item.get("detail", "") for item in evidence["standards"]],
        },
        hide_index=True,
        key="assessment_standards",
    )
    st.caption(
        f"Computed under policy {assessment.policy_version}, from model artifacts "
        f"sha256 {evidence['model_artifacts']['sha256'][:16]}… and run {assessment.run_id}."
    )


def _shown(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


@st.fragment(run_every=2)
def _job_progress(engine: Engine, subject: str) -> None:
    """Poll the running job; when it ends, rerun the page to show its outcome."""
    job = latest_job(engine, subject)
    if job is not None and job.status in ACTIVE:
        st.progress(job.progress, text=f"Assessing {subject}: {job.message}")
    else:
        st.rerun()
