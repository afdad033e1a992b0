"""Widgets of the compliance reports page."""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from governance.errors import GovernanceError
from governance.records.stored import StoredReport, report_file


def kept_reports(
    reports: list[StoredReport], names: Mapping[str, str], *, key: str
) -> None:
    """Kept reports as a table, and the files of the one chosen to download."""
    if not reports:
        st.caption("Nothing kept yet.")
        return
    st.dataframe(
        {
            "Report": [r.id for r in reports],
            "Title": [r.title for r in reports],
            "Kept at": [r.created_at for r in reports],
            "By": [names.get(r.created_by, r.created_by) for r in reports],
            "Policy": [r.policy_version for r in reports],
            "Summary": [r.summary for r in reports],
        },
        hide_index=True,
        key=f"{key}_table",
    )
    chosen = st.selectbox(
        "Download",
        reports,
        format_func=lambda r: f"{r.id}: {r.title}",
        key=f"{key}_chosen",
    )
    try:
        files = {fmt: report_file(chosen, fmt) for fmt in ("html", "pdf")}
    except GovernanceError as exc:
        st.error(str(exc))
        return
    left, right = st.columns(2)
    for column, fmt, mime in (
        (left, "html", "text/html"),
        (right, "pdf", "application/pdf"),
    ):
        column.download_button(
            fmt.upper(),
            files[fmt],
            file_name=f"{chosen.file_stem}.{fmt}",
            mime=mime,
            key=f"{key}_{fmt}",
        )
    st.caption(f"SHA-256 of the PDF: {chosen.pdf_sha256}")
