"""Sign-in for the browser session, in the mode the settings choose.

``gate`` runs inside ``ui.context.store()``, which every page calls first, so no
page shows anything to a session that is not signed in, whether it runs under
``app.py`` or on its own. ``sidebar_panel`` draws the demo picker, who acts and
the sign-out button.

Session state holds at most the signed-in user's id (in local mode sealed with a
key this process made, so a planted value opens nothing) and the time of the
last action. Roles are never kept here: ``ui.context.acting_person`` reads them
from the database on every run.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime

import streamlit as st
from sqlalchemy import Engine

from governance.access import list_people
from governance.errors import GovernanceError
from governance.identity import (
    active_user,
    demo_mode_allowed,
    is_idle_expired,
    linked_user_id,
    open_session,
    require_demo_allowed,
    seal_session,
    sign_in_local,
    sign_in_oidc,
)
from governance.settings import Settings

logger = logging.getLogger(__name__)

DEMO_USER = "acting_user_id"
DEMO_PICKER = "demo_person_picker"
LOCAL_TOKEN = "signed_in_token"
LAST_ACTIVITY = "last_activity_at"
EXPIRED_NOTICE = "signed_out_idle"
OIDC_RECORDED = "oidc_sign_in_recorded"


@st.cache_resource(show_spinner=False)
def session_key() -> bytes:
    """The key that seals local sessions; new on each server start."""
    return secrets.token_bytes(32)


def server_address() -> str | None:
    """The address the Streamlit server listens on."""
    return st.get_option("server.address")


def signed_in_user_id(settings: Settings, engine: Engine) -> str | None:
    """The active user this browser session acts as, or None (draws nothing)."""
    if settings.auth_mode == "demo":
        if not demo_mode_allowed(server_address()):
            return None
        return active_user(engine, st.session_state.get(DEMO_USER))
    if settings.auth_mode == "local":
        token = st.session_state.get(LOCAL_TOKEN)
        return active_user(engine, open_session(token, session_key()))
    claims = _oidc_claims()
    return linked_user_id(engine, claims) if claims else None


def _oidc_claims() -> dict[str, object]:
    if not st.user.get("is_logged_in"):
        return {}
    return dict(st.user.to_dict())


def gate(settings: Settings, engine: Engine) -> None:
    """Let the run go on only for a session allowed to see pages.

    Demo mode needs a loopback server address; local mode a valid sign-in (the
    form is drawn and the run stops otherwise); OIDC mode a provider sign-in.
    """
    _expire_idle_session(settings)
    if settings.auth_mode == "demo":
        try:
            require_demo_allowed(server_address())
        except GovernanceError as exc:
            st.error(str(exc))
            st.stop()
        return
    if settings.auth_mode == "local":
        if signed_in_user_id(settings, engine) is None:
            _local_form(settings, engine)
        return
    _oidc_gate(engine)


def _expire_idle_session(settings: Settings) -> None:
    now = datetime.now(UTC)
    last = st.session_state.get(LAST_ACTIVITY)
    last = last if isinstance(last, datetime) else None
    if is_idle_expired(last, now, settings.session_idle_minutes):
        logger.info("Session idle since %s: signed out", last)
        sign_out(settings)
        st.session_state[EXPIRED_NOTICE] = True
    st.session_state[LAST_ACTIVITY] = now


def _expiry_notice(settings: Settings) -> None:
    if st.session_state.pop(EXPIRED_NOTICE, False):
        st.info(
            f"You were signed out after {settings.session_idle_minutes} minutes "
            "without activity. Sign in again to go on."
        )


def sign_out(settings: Settings) -> None:
    """Forget who this session acts as."""
    for key in (DEMO_USER, LOCAL_TOKEN, OIDC_RECORDED):
        st.session_state.pop(key, None)
    if settings.auth_mode == "oidc" and st.user.get("is_logged_in"):
        st.logout()


def _local_form(settings: Settings, engine: Engine) -> None:
    st.session_state.pop(LOCAL_TOKEN, None)
    st.title("Sign in")
    _expiry_notice(settings)
    with st.form("sign_in_form"):
        username = st.text_input("Username", key="sign_in_username")
        password = st.text_input("Password", type="password", key="sign_in_password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        try:
            signed = sign_in_local(engine, username, password)
        except GovernanceError as exc:
            st.error(str(exc))
        else:
            st.session_state[LOCAL_TOKEN] = seal_session(signed.user_id, session_key())
            st.rerun()
    st.stop()


def _oidc_gate(engine: Engine) -> None:
    if not _oidc_configured():
        st.error(
            "Sign-in with an identity provider is not configured: add an [auth] "
            "section to .streamlit/secrets.toml (see the README), or set "
            "GOVERNANCE_AUTH=local."
        )
        st.stop()
    claims = _oidc_claims()
    if not claims:
        st.title("Sign in")
        if st.button("Sign in with your organisation's account", type="primary"):
            st.login()
        st.stop()
    if st.session_state.get(OIDC_RECORDED) == claims.get("sub"):
        return
    try:
        sign_in_oidc(engine, claims)
    except GovernanceError as exc:
        st.error(str(exc))
        st.stop()
    # Only keeps a second sign-in out of the audit trail; it grants nothing.
    st.session_state[OIDC_RECORDED] = claims.get("sub")


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, st.errors.StreamlitSecretNotFoundError):
        return False


def sidebar_panel(settings: Settings, engine: Engine) -> None:
    """The sidebar's part of sign-in: demo banner and picker, or sign-out."""
    if settings.auth_mode == "demo":
        _demo_picker(settings, engine)
        return
    if settings.auth_mode == "oidc" and signed_in_user_id(settings, engine) is None:
        st.sidebar.warning(
            "You are signed in but not an active user of this console, so you hold "
            "no role. Ask an administrator to add you with your e-mail address."
        )
    if st.sidebar.button("Sign out", key="sign_out"):
        sign_out(settings)
        st.rerun()


def _demo_picker(settings: Settings, engine: Engine) -> None:
    st.sidebar.warning(
        "Demo mode is on: anyone using this browser can act as any demo person. "
        "Never expose this server to a network."
    )
    if st.session_state.pop(EXPIRED_NOTICE, False):
        st.sidebar.info(
            f"Signed out after {settings.session_idle_minutes} minutes without "
            "activity; choose a person again."
        )
    people = [person for person in list_people(engine) if person.roles]
    if not people:
        st.sidebar.info(
            "No people yet: build the demo with `python -m governance demo`."
        )
        return
    ids = [person.id for person in people]
    names = {p.id: f"{p.display_name} — {p.role_titles}" for p in people}
    chosen = st.session_state.get(DEMO_USER)
    # The widget's own key is not the identity: a widget's state is dropped on a
    # run that does not draw it, and the choice must outlive such runs.
    st.sidebar.selectbox(
        "Acting as",
        ids,
        index=ids.index(chosen) if chosen in ids else None,
        format_func=names.__getitem__,
        placeholder="Choose a demo person",
        key=DEMO_PICKER,
        on_change=_remember_demo_choice,
        help="Demo mode: choose whose account to act with.",
    )


def _remember_demo_choice() -> None:
    st.session_state[DEMO_USER] = st.session_state.get(DEMO_PICKER)
