"""Cached resources and the acting identity, shared by every page."""

from __future__ import annotations

import logging

import streamlit as st
from sqlalchemy import Engine

from governance.access import Person, get_person, list_people
from governance.bootstrap import prepare_store
from governance.errors import GovernanceError, NotFoundError
from governance.policy import Policy
from governance.settings import Settings, load_settings

_ACTING_USER = "acting_user_id"


@st.cache_resource(show_spinner="Opening the store…")
def _store() -> tuple[Settings, Engine, Policy]:
    settings = load_settings()
    engine, policy = prepare_store(settings)
    return settings, engine, policy


def store() -> tuple[Settings, Engine, Policy]:
    """Settings, engine and policy, or a plain message and a stopped page."""
    try:
        return _store()
    except GovernanceError as exc:
        st.error(str(exc))
        st.stop()
        raise  # unreachable: st.stop() ends the script run


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

    Session state holds only the chosen user id; roles always come from the
    database, so a value planted in session state cannot grant anything.
    """
    _, engine, _ = store()
    user_id = st.session_state.get(_ACTING_USER)
    if not user_id:
        return None
    try:
        return get_person(engine, user_id)
    except NotFoundError:
        st.session_state.pop(_ACTING_USER, None)
        return None


def identity_sidebar() -> Person | None:
    """Sidebar: choose the demo person to act as and show their roles."""
    _, engine, _ = store()
    people = list_people(engine)
    if not people:
        st.sidebar.info(
            "No people yet: build the demo with `python -m governance demo`."
        )
        return None
    ids = [person.id for person in people]
    names = {
        person.id: f"{person.display_name} — {person.role_titles}" for person in people
    }
    if st.session_state.get(_ACTING_USER) not in ids:
        st.session_state[_ACTING_USER] = ids[0]
    st.sidebar.selectbox(
        "Acting as",
        ids,
        format_func=names.__getitem__,
        key=_ACTING_USER,
        help="Demo mode: choose whose account to act with. Sign-in replaces this.",
    )
    person = acting_person()
    if person is not None:
        st.sidebar.caption(
            f"Signed in as **{person.display_name}** · {person.role_titles}"
        )
    return person
