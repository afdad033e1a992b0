"""Cached resources and the acting identity, shared by every page."""

from __future__ import annotations

import logging

import streamlit as st
from sqlalchemy import Engine

from governance.access import Person, get_person
from governance.bootstrap import prepare_store
from governance.errors import GovernanceError, NotFoundError
from governance.policy import Policy
from governance.settings import Settings, load_settings
from ui.identity import gate, sidebar_panel, signed_in_user_id


@st.cache_resource(show_spinner="Opening the store…")
def _store() -> tuple[Settings, Engine, Policy]:
    settings = load_settings()
    engine, policy = prepare_store(settings)
    return settings, engine, policy


def store() -> tuple[Settings, Engine, Policy]:
    """Settings, engine and policy for a signed-in session.

    Otherwise a plain message (or the sign-in form) and a stopped page: every
    page calls this first, so the sign-in gate holds for every page, including
    a page run without ``app.py``.
    """
    try:
        settings, engine, policy = _store()
    except GovernanceError as exc:
        st.error(str(exc))
        st.stop()
        raise  # unreachable: st.stop() ends the script run
    gate(settings, engine)
    return settings, engine, policy


def configure_logging() -> None:
    """Configure logging once per process, not on every rerun."""
    root = logging.getLogger()
    if not any(getattr(handler, "_governance", False) for handler in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler._governance = True  # type: ignore[attr-defined]
        root.addHandler(handler)
        root.setLevel(logging.INFO)


def acting_person() -> Person | None:
    """The person the browser session acts as, with roles read from the store now.

    Session state holds only the signed-in user id (sealed in local mode; in OIDC
    mode the identity comes from the provider's cookie on every run); roles always
    come from the database, so a value planted in session state grants nothing.
    """
    settings, engine, _ = store()
    user_id = signed_in_user_id(settings, engine)
    if user_id is None:
        return None
    try:
        return get_person(engine, user_id)
    except NotFoundError:
        return None


def identity_sidebar() -> Person | None:
    """Sign-in in the sidebar (the configured mode) and who acts, with roles."""
    settings, engine, _ = store()
    sidebar_panel(settings, engine)
    person = acting_person()
    if person is not None:
        st.sidebar.caption(
            f"Signed in as **{person.display_name}** · {person.role_titles}"
        )
    return person
