"""Widgets of the retention page: legal hold forms and the backup panel."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import partial

import streamlit as st
from sqlalchemy import Engine

from governance.audit_records_tables import LegalHold
from governance.errors import GovernanceError
from governance.records.backup import PG_DUMP_HINT, backup_store
from governance.records.retention import HOLD_SUBJECTS, place_hold, release_hold
from governance.settings import Settings
from ui.signoff import act


def hold_forms(
    engine: Engine, actor_id: str, holds: list[LegalHold], today: date
) -> None:
    """Place a legal hold, and release one in force (for a compliance officer)."""
    with st.form("records_hold_form", clear_on_submit=True):
        kind = st.selectbox(
            "Hold", list(HOLD_SUBJECTS), format_func=HOLD_SUBJECTS.__getitem__
        )
        subject = st.text_input(
            "Model name, version id or report id", key="records_subject"
        )
        held_from = st.date_input(
            "Audit log held from", value=today, key="records_from"
        )
        reason = st.text_input("Reason (the matter or request)", key="records_reason")
        if st.form_submit_button("Place the hold", type="primary"):
            act(
                partial(
                    place_hold,
                    engine,
                    actor_id=actor_id,
                    subject_type=kind,
                    subject_id=subject,
                    held_from=held_from,
                    reason=reason,
                ),
                "Legal hold placed.",
            )
    in_force = [h.id for h in holds if h.released_at is None]
    if not in_force:
        return
    hold_id = st.selectbox("Hold to release", in_force, key="records_release_id")
    why = st.text_input("Why it is released", key="records_release_reason")
    if st.button("Release the hold", key="records_release"):
        act(
            partial(
                release_hold, engine, actor_id=actor_id, hold_id=hold_id, reason=why
            ),
            f"Legal hold {hold_id} released.",
        )


def backup_panel(settings: Settings) -> None:
    """Take a backup of the SQLite store and offer it for download (administrators)."""
    st.subheader("Backup")
    if not settings.is_sqlite:
        st.info(PG_DUMP_HINT)
        return
    if not st.button("Take a backup now", key="records_backup"):
        return
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        copy = backup_store(
            settings, settings.home / "backups" / f"governance-{stamp}.db"
        )
    except GovernanceError as exc:
        st.error(str(exc))
        return
    st.success(copy.describe())
    st.download_button(
        "Download the backup",
        copy.path.read_bytes(),
        file_name=copy.path.name,
        mime="application/vnd.sqlite3",
        key="records_backup_download",
    )
