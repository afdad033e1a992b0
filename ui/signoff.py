"""Widgets shared by the sign-off pages: actions with errors at the edge, roles."""

from __future__ import annotations

import logging
from collections.abc import Callable

import streamlit as st

from governance.access import Person
from governance.errors import GovernanceError
from governance.workflow import ChecklistItem, allowed_roles
from ui.context import store

logger = logging.getLogger(__name__)

_FLASH = "signoff_flash"
_MODEL, _VERSION = "model_name", "version_name"


def may(person: Person | None, action: str) -> bool:
    """Whether ``person``'s roles (read from the store this run) allow ``action``.

    Only hides what a role cannot do; the domain checks again on every action.
    """
    return person is not None and bool(set(person.roles) & set(allowed_roles(action)))


def act(action: Callable[[], object], success: str) -> None:
    """Run a domain action; on success rerun and say so, else show why not.

    Every `GovernanceError` stops here as a plain message; nothing else is caught.
    """
    try:
        action()
    except GovernanceError as exc:
        st.error(str(exc))
        return
    st.session_state[_FLASH] = success
    st.rerun()


def show_flash() -> None:
    """Show the outcome of the action taken before the last rerun."""
    message = st.session_state.pop(_FLASH, None)
    if isinstance(message, str):
        st.success(message)


def signed_in_or_stop(person: Person | None) -> Person:
    """``person``, or a prompt to sign in and a stopped page."""
    if person is None:
        settings, _, _ = store()
        st.info(
            "Choose a demo person under **Acting as** in the sidebar to act here."
            if settings.auth_mode == "demo"
            else "Sign in with an account that holds a role to act here."
        )
        st.stop()
    assert person is not None
    return person


def open_version(model: str, version: str, page: str) -> None:
    """Go to ``page`` with ``model`` ``version`` chosen in its selectors."""
    st.session_state[_MODEL], st.session_state[_VERSION] = model, version
    st.query_params["model"] = model
    st.switch_page(page)


def user_text(label: str, text: str | None) -> None:
    """Show text a person typed, as plain text (never markdown or HTML)."""
    st.caption(label)
    st.text(text or "—")


def checklist_table(
    items: list[ChecklistItem], names: dict[str, str], *, key: str
) -> None:
    """A checklist as a table: item, done, by whom, when, why."""
    st.dataframe(
        {
            "Item": [item.title for item in items],
            "Done": [item.is_done for item in items],
            "By": [
                names.get(item.ticked_by or "", item.ticked_by or "") for item in items
            ],
            "At": [item.ticked_at for item in items],
            "Detail": [item.detail for item in items],
        },
        hide_index=True,
        key=key,
    )
