"""Sign-in modes, passwords, sessions and accounts (governance.identity, ui.identity)."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlmodel import select
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from governance.access import get_person
from governance.errors import (
    ConflictError,
    InvalidInputError,
    PermissionDeniedError,
)
from governance.identity import (
    MIN_PASSWORD_LENGTH,
    create_local_account,
    demo_mode_allowed,
    hash_password,
    is_idle_expired,
    open_session,
    require_demo_allowed,
    seal_session,
    set_active,
    sign_in_local,
    sign_in_oidc,
    verify_password,
)
from governance.settings import load_settings
from governance.store import read_session
from governance.tables import AuditEvent
from governance.workflow import require_permission
from tests.app_support import APP, person

PASSWORD = "correct horse battery staple"


@pytest.fixture
def local_account(engine, people):
    return create_local_account(
        engine,
        actor_id=people["admin"],
        username="Nadia",
        display_name="Nadia Salem",
        email="Nadia.Salem@example.org",
        password=PASSWORD,
        roles=("compliance_officer",),
    )


def test_password_hash_is_argon2id_and_checked_by_argon2(engine):
    stored = hash_password(PASSWORD)

    assert stored.startswith("$argon2id$")
    assert PasswordHasher().verify(stored, PASSWORD)
    assert verify_password(stored, PASSWORD)
    assert not verify_password(stored, PASSWORD + "!")
    assert not verify_password("not a hash", PASSWORD)


@pytest.mark.parametrize(
    ("length", "accepted"),
    [(MIN_PASSWORD_LENGTH - 1, False), (MIN_PASSWORD_LENGTH, True), (257, False)],
    ids=["one-short", "minimum", "too-long"],
)
def test_password_length_rules(length, accepted):
    password = "p" * length

    if accepted:
        assert verify_password(hash_password(password), password)
    else:
        with pytest.raises(InvalidInputError, match="characters"):
            hash_password(password)


def test_local_sign_in_right_wrong_unknown_and_inactive(engine, people, local_account):
    signed = sign_in_local(engine, " NADIA ", PASSWORD)
    assert (signed.user_id, signed.display_name, signed.method) == (
        local_account,
        "Nadia Salem",
        "local",
    )
    assert get_person(engine, local_account).roles == ("compliance_officer",)

    with pytest.raises(
        PermissionDeniedError, match="Unknown username or wrong"
    ) as wrong:
        sign_in_local(engine, "nadia", PASSWORD.upper())
    with pytest.raises(PermissionDeniedError) as unknown:
        sign_in_local(engine, "nobody", PASSWORD)
    assert str(wrong.value) == str(unknown.value)

    set_active(
        engine,
        actor_id=people["admin"],
        user_id=local_account,
        is_active=False,
        reason="Left the team.",
    )
    with pytest.raises(PermissionDeniedError, match="deactivated"):
        sign_in_local(engine, "nadia", PASSWORD)
    with read_session(engine) as session:
        events = session.exec(
            select(AuditEvent).where(AuditEvent.action == "identity.signed_in")
        ).all()
    assert [(e.actor_id, json.loads(e.payload)) for e in events] == [
        (local_account, {"method": "local"})
    ]


def test_only_an_administrator_creates_accounts(engine, people, local_account):
    with pytest.raises(PermissionDeniedError, match="Administrator"):
        create_local_account(
            engine,
            actor_id=people["owner"],
            username="eve",
            display_name="Eve",
            email=None,
            password=PASSWORD,
            roles=("admin",),
        )
    with pytest.raises(ConflictError, match="already exists"):
        create_local_account(
            engine,
            actor_id=people["admin"],
            username="nadia",
            display_name="Other Nadia",
            email=None,
            password=PASSWORD,
        )
    with pytest.raises(InvalidInputError, match="without spaces"):
        create_local_account(
            engine,
            actor_id=people["admin"],
            username="two words",
            display_name="",
            email=None,
            password=PASSWORD,
        )


def test_deactivated_user_is_refused_by_the_domain(engine, people):
    set_active(
        engine,
        actor_id=people["admin"],
        user_id=people["scientist"],
        is_active=False,
        reason="On leave.",
    )

    with pytest.raises(PermissionDeniedError, match="deactivated"):
        with read_session(engine) as session:
            require_permission(session, people["scientist"], "approval.request")
    with pytest.raises(PermissionDeniedError, match="own account"):
        set_active(
            engine,
            actor_id=people["admin"],
            user_id=people["admin"],
            is_active=False,
            reason="Oops.",
        )
    with pytest.raises(PermissionDeniedError, match="Administrator"):
        set_active(
            engine,
            actor_id=people["owner"],
            user_id=people["scientist"],
            is_active=True,
            reason="Back.",
        )


CLAIMS = {"iss": "https://id.example.org", "sub": "abc-123", "email_verified": True}


def test_oidc_links_by_email_once_then_by_subject(engine, people, local_account):
    first = sign_in_oidc(engine, {**CLAIMS, "email": "nadia.salem@EXAMPLE.org"})
    again = sign_in_oidc(engine, {**CLAIMS, "email": "new.address@example.org"})

    assert first is not None
    assert again is not None
    assert first.user_id == again.user_id == local_account
    assert first.method == "oidc"


@pytest.mark.parametrize(
    "claims",
    [
        {**CLAIMS, "email": "stranger@example.org"},
        {**CLAIMS, "email": "nadia.salem@example.org", "email_verified": False},
        {**CLAIMS, "email": ""},
    ],
    ids=["unknown-email", "unverified-email", "no-email"],
)
def test_oidc_person_unknown_to_the_console_gets_no_user(
    engine, people, local_account, claims
):
    assert sign_in_oidc(engine, claims) is None


def test_oidc_without_subject_is_refused(engine):
    with pytest.raises(InvalidInputError, match="subject"):
        sign_in_oidc(engine, {"iss": "x", "email": "a@example.org"})


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("192.168.1.20", False),
        ("", False),
        (None, False),
    ],
    ids=[
        "localhost",
        "ipv4-loopback",
        "ipv6-loopback",
        "bracketed",
        "all",
        "lan",
        "empty",
        "unset",
    ],
)
def test_demo_mode_only_on_loopback(address, allowed):
    assert demo_mode_allowed(address) is allowed
    if not allowed:
        with pytest.raises(PermissionDeniedError, match="localhost"):
            require_demo_allowed(address)


def test_session_token_opens_only_with_the_key_that_sealed_it():
    key, other = b"k" * 32, b"o" * 32
    token = seal_session("u-123", key)

    assert open_session(token, key) == "u-123"
    assert open_session(token, other) is None
    assert open_session("u-123", key) is None
    assert open_session(token[:-1] + "0", key) is None
    assert open_session(None, key) is None


@pytest.mark.parametrize(
    ("idle", "expired"),
    [(timedelta(minutes=29), False), (timedelta(minutes=31), True)],
    ids=["within", "past"],
)
def test_idle_expiry(idle, expired):
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    assert is_idle_expired(now - idle, now, 30) is expired
    assert is_idle_expired(None, now, 30) is False


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"GOVERNANCE_AUTH": "ldap"}, "GOVERNANCE_AUTH"),
        ({"GOVERNANCE_SESSION_IDLE_MINUTES": "0"}, "GOVERNANCE_SESSION_IDLE_MINUTES"),
        ({"GOVERNANCE_OVERDUE_DAYS": "soon"}, "GOVERNANCE_OVERDUE_DAYS"),
    ],
    ids=["mode", "idle", "overdue"],
)
def test_bad_identity_settings_are_refused(environ, message):
    with pytest.raises(InvalidInputError, match=message):
        load_settings(environ)


def test_identity_settings_defaults_and_values():
    assert load_settings({}).auth_mode == "demo"
    chosen = load_settings(
        {"GOVERNANCE_AUTH": "Local", "GOVERNANCE_SESSION_IDLE_MINUTES": "15"}
    )
    assert (chosen.auth_mode, chosen.session_idle_minutes) == ("local", 15)


# --- The app: sign-in as a browser session sees it (AppTest) -----------------


@pytest.fixture
def nadia_home(app_store):
    engine, _ = app_store
    create_local_account(
        engine,
        actor_id=person("admin"),
        username="nadia",
        display_name="Nadia Salem",
        email=None,
        password=PASSWORD,
        roles=("compliance_officer",),
    )
    return engine


def _app(**state):
    app = AppTest.from_file(APP, default_timeout=60)
    for key, value in state.items():
        app.session_state[key] = value
    return app.run()


def _sign_in(app, username, password):
    app.text_input(key="sign_in_username").input(username)
    app.text_input(key="sign_in_password").input(password)
    return app.button[0].click().run()


def test_local_sign_in_through_the_form(nadia_home, monkeypatch):
    monkeypatch.setenv("GOVERNANCE_AUTH", "local")

    app = _app()
    assert [title.value for title in app.title] == ["Sign in"]

    app = _sign_in(app, "nadia", "wrong password, clearly")
    assert app.error[0].value.startswith("Unknown username or wrong password")
    assert [title.value for title in app.title] == ["Sign in"]

    app = _sign_in(app, "nadia", PASSWORD)
    assert not app.exception
    assert app.title[0].value == "Model inventory"
    assert "Nadia Salem" in app.sidebar.caption[0].value


def test_inactive_local_user_cannot_sign_in_through_the_form(nadia_home, monkeypatch):
    monkeypatch.setenv("GOVERNANCE_AUTH", "local")
    nadia = sign_in_local(nadia_home, "nadia", PASSWORD).user_id
    set_active(
        nadia_home,
        actor_id=person("admin"),
        user_id=nadia,
        is_active=False,
        reason="Left.",
    )

    app = _sign_in(_app(), "nadia", PASSWORD)

    assert "deactivated" in app.error[0].value
    assert [title.value for title in app.title] == ["Sign in"]


def test_planted_session_values_sign_nobody_in_local_mode(nadia_home, monkeypatch):
    monkeypatch.setenv("GOVERNANCE_AUTH", "local")
    admin = person("admin")

    app = _app(
        signed_in_token=f"{admin}.{'0' * 64}",
        acting_user_id=admin,
        roles=["admin"],
    )

    assert [title.value for title in app.title] == ["Sign in"]
    assert not app.sidebar.caption


def test_idle_session_is_signed_out(nadia_home, monkeypatch):
    monkeypatch.setenv("GOVERNANCE_AUTH", "local")
    app = _sign_in(_app(), "nadia", PASSWORD)
    assert app.title[0].value == "Model inventory"

    app.session_state["last_activity_at"] = datetime.now(UTC) - timedelta(minutes=31)
    app.run()

    assert app.info[0].value.startswith("You were signed out after 30 minutes")
    assert [title.value for title in app.title] == ["Sign in"]


def test_demo_mode_is_refused_on_a_network_address(nadia_home):
    before = st_config.get_option("server.address")
    st_config.set_option("server.address", "0.0.0.0")
    try:
        app = _app(acting_user_id="anyone")
    finally:
        st_config.set_option("server.address", before)

    assert "runs only on a server listening on localhost" in app.error[0].value
    assert not app.title


def test_demo_mode_shows_its_banner_and_acts_as_the_chosen_person(nadia_home):
    app = _app(acting_user_id=person("sofia"))

    assert app.sidebar.warning[0].value.startswith("Demo mode is on")
    assert "Sofia Marin" in app.sidebar.caption[0].value


def test_oidc_mode_without_provider_settings_says_what_to_add(nadia_home, monkeypatch):
    monkeypatch.setenv("GOVERNANCE_AUTH", "oidc")

    app = _app()

    assert "add an [auth] section" in app.error[0].value
    assert not app.title
