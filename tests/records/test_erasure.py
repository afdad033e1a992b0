"""GDPR erasure: personal data leaves the users table, the chain stays verifiable."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, col, select

from governance.access import SYSTEM_USER_ID, grant_role
from governance.audit import verify_chain
from governance.errors import ConflictError, InvalidInputError, PermissionDeniedError
from governance.identity import create_local_account, sign_in_local
from governance.identity_tables import LocalCredential
from governance.records.erasure import erase_person
from governance.tables import AuditEvent, User

PASSWORD = "correct horse battery staple 42"


def _user(engine, user_id: str) -> User:
    with Session(engine) as session:
        user = session.get(User, user_id)
    assert user is not None
    return user


def test_erasure_removes_name_and_email_and_keeps_the_id(engine, people):
    before = verify_chain(engine)

    erasure = erase_person(
        engine,
        actor_id=people["admin"],
        user_id=people["scientist"],
        reason="request 2026-114",
    )

    user = _user(engine, people["scientist"])
    assert user.id == people["scientist"]
    assert user.display_name is None
    assert user.email is None
    assert user.username == erasure.placeholder
    assert user.username.startswith("erased-")
    assert "scientist" not in user.username
    assert not user.is_active
    after = verify_chain(engine)
    assert after.is_intact, after.describe()
    assert after.head_seq == before.head_seq + 1


def test_the_erasure_event_carries_no_personal_data(engine, people):
    erase_person(
        engine,
        actor_id=people["admin"],
        user_id=people["scientist"],
        reason="request 7",
    )

    with Session(engine) as session:
        event = session.exec(
            select(AuditEvent).order_by(col(AuditEvent.seq).desc()).limit(1)
        ).one()
    assert (event.action, event.entity_id) == ("user.erased", people["scientist"])
    assert json.loads(event.payload) == {
        "reason": "request 7",
        "sign_in_records_removed": 0,
    }
    for erased in ("Scientist", "scientist@example.org"):
        assert erased not in event.payload


def test_after_erasure_no_event_names_the_person(engine, people):
    with Session(engine) as session:
        user = session.get(User, people["scientist"])
        assert user is not None
        personal = (user.username, user.display_name, user.email)

    erase_person(
        engine,
        actor_id=people["admin"],
        user_id=people["scientist"],
        reason="request 9",
    )

    with Session(engine) as session:
        payloads = session.exec(select(AuditEvent.payload)).all()
    assert payloads
    for value in personal:
        assert value is not None
        quoted = json.dumps(value)  # as a JSON string value, not a role's substring
        assert not any(quoted in payload for payload in payloads), value


def test_erasure_removes_the_password_and_sign_in_stops(engine, people):
    user_id = create_local_account(
        engine,
        actor_id=people["admin"],
        username="nadia",
        display_name="Nadia Haddad",
        email="nadia@example.org",
        password=PASSWORD,
        roles=("data_scientist",),
    )

    erasure = erase_person(
        engine, actor_id=people["admin"], user_id=user_id, reason="left"
    )

    assert erasure.sign_in_records_removed == 1
    with Session(engine) as session:
        assert session.get(LocalCredential, user_id) is None
    with pytest.raises(PermissionDeniedError, match="Unknown username"):
        sign_in_local(engine, "nadia", PASSWORD)


@pytest.mark.parametrize(
    ("actor", "target", "error"),
    [
        ("owner", "scientist", PermissionDeniedError),
        ("admin", SYSTEM_USER_ID, PermissionDeniedError),
    ],
    ids=["not-an-administrator", "system-account"],
)
def test_erasure_is_refused(engine, people, actor, target, error):
    user_id = people.get(target, target)

    with pytest.raises(error):
        erase_person(engine, actor_id=people[actor], user_id=user_id, reason="x")


def test_the_last_administrator_cannot_be_erased(engine, people):
    with pytest.raises(PermissionDeniedError, match="last active administrator"):
        erase_person(
            engine, actor_id=people["admin"], user_id=people["admin"], reason="x"
        )

    grant_role(engine, actor_id=people["admin"], user_id=people["owner"], role="admin")
    with pytest.raises(PermissionDeniedError, match="your own account"):
        erase_person(
            engine, actor_id=people["admin"], user_id=people["admin"], reason="x"
        )
    erase_person(
        engine, actor_id=people["owner"], user_id=people["admin"], reason="left"
    )
    assert not _user(engine, people["admin"]).is_active


def test_twice_and_without_reason_are_refused(engine, people):
    erase_person(
        engine, actor_id=people["admin"], user_id=people["owner"], reason="request"
    )

    with pytest.raises(ConflictError):
        erase_person(
            engine, actor_id=people["admin"], user_id=people["owner"], reason="again"
        )
    with pytest.raises(InvalidInputError):
        erase_person(
            engine, actor_id=people["admin"], user_id=people["engineer"], reason=" "
        )


def test_erase_command(engine, people, settings, monkeypatch, capsys):
    from governance.cli import main

    monkeypatch.setenv("GOVERNANCE_HOME", str(settings.home))
    monkeypatch.setenv("GOVERNANCE_DATABASE_URL", settings.database_url)

    code = main(["erase", "--user", "owner", "--reason", "request 9", "--as", "admin"])

    assert code == 0
    assert people["owner"] in capsys.readouterr().out
    assert _user(engine, people["owner"]).email is None


@pytest.mark.parametrize(
    "reason",
    ["request from Scientist", "mail scientist@example.org", "user SCIENTIST asked"],
    ids=["name", "email", "username"],
)
def test_a_reason_naming_the_person_is_refused(engine, people, reason):
    with pytest.raises(InvalidInputError, match="audit trail"):
        erase_person(
            engine, actor_id=people["admin"], user_id=people["scientist"], reason=reason
        )

    assert _user(engine, people["scientist"]).email == "scientist@example.org"
