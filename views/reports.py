"""Compliance reports: periodic reports, per-version documents and the templates."""

from functools import partial

import streamlit as st

from governance.records.documents import DOCUMENT_KINDS, generate_document
from governance.records.reports import REPORT_KINDS
from governance.records.reports import generate_report as generate
from governance.records.stored import list_reports
from governance.records.templates import (
    framework_templates,
    template_markdown,
    template_pdf,
)
from governance.signoff import display_names
from ui.context import acting_person, store
from ui.reports import kept_reports
from ui.selection import choose_version
from ui.signoff import act, may, show_flash, signed_in_or_stop

settings, engine, policy = store()
st.title("Compliance reports")
show_flash()
person = signed_in_or_stop(acting_person())
names = display_names(engine)


periodic, documents, templates = st.tabs(
    ["Periodic reports", "Documents per version", "Templates"]
)

with periodic:
    st.write(
        "The monthly compliance report and the quarterly risk assessment are built "
        "from the records of their period and kept as HTML and PDF with their "
        "digests; generating a period again keeps a new report."
    )
    if may(person, "report.generate"):
        with st.form("report_generate"):
            kind = st.selectbox(
                "Report",
                list(REPORT_KINDS),
                format_func=lambda k: REPORT_KINDS[k].title,
                key="report_kind",
            )
            period = st.text_input(
                "Period (empty for the current one)",
                key="report_period",
                help="2026-11 for a month, 2026-Q4 for a quarter (UTC).",
            )
            submitted = st.form_submit_button("Generate and keep", type="primary")
        if submitted:
            act(
                partial(
                    generate,
                    settings,
                    engine,
                    policy,
                    actor_id=person.id,
                    kind=kind,
                    period=period.strip() or None,
                ),
                "Report generated and kept; download it below.",
            )
    else:
        st.caption("Compliance officers generate reports; anyone signed in reads them.")
    kept_reports(list_reports(engine, kinds=list(REPORT_KINDS)), names, key="periodic")

with documents:
    st.write(
        "The framework requires a risk assessment report, a compliance validation "
        "report and an approval record for every model version."
    )
    chosen = choose_version(engine, key="reports")
    if chosen is not None:
        model, row = chosen
        if may(person, "report.document"):
            document = st.selectbox(
                "Document",
                list(DOCUMENT_KINDS),
                format_func=DOCUMENT_KINDS.__getitem__,
                key="report_document_kind",
            )
            if st.button("Draft and keep", key="report_document"):
                act(
                    partial(
                        generate_document,
                        settings,
                        engine,
                        policy,
                        actor_id=person.id,
                        model=model,
                        version=row.version,
                        kind=document,
                    ),
                    f"{DOCUMENT_KINDS[document]} of {model} {row.version} kept.",
                )
        kept_reports(
            list_reports(engine, model_version_id=row.id), names, key="documents"
        )

with templates:
    st.write(
        "The framework's templates, as the console's forms and checklists use them."
    )
    for template in framework_templates(policy):
        st.markdown(f"**{template.title}**")
        st.caption(template.purpose)
        left, right = st.columns(2)
        left.download_button(
            "Markdown",
            template_markdown(template, policy),
            file_name=f"{template.key}.md",
            mime="text/markdown",
            key=f"template_{template.key}_md",
        )
        right.download_button(
            "PDF",
            partial(template_pdf, template, policy),
            file_name=f"{template.key}.pdf",
            mime="application/pdf",
            key=f"template_{template.key}_pdf",
        )
