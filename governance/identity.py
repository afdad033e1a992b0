"""Who is signed in: the three sign-in modes, passwords, sessions and accounts.

The console signs people in one of three ways, chosen by ``GOVERNANCE_AUTH``:

``demo``
    Anyone picks one of the seeded demo people. Allowed only while the server
    listens on a loopback address, so a demo can never be reached from a network.
``local``
    Username and password. An administrator creates the account; the password
    is kept as an argon2id hash (argon2-cffi's defaults, RFC 9106).
``oidc``
    An OpenID Connect provider signs the person in (Streamlit's ``st.login``);
    its subject is linked to the user with the same e-mail address on first
    sign-in. A person the console does not know signs in with no role.

Whatever the mode, the browser session keeps only the signed-in user's id
(sealed with a per-process key in local mode) and the time of its last action;
roles are read from the database on every action, so nothing a session holds can
grant a role. This module never imports streamlit; ``ui.identity`` draws it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from governance.access import SYSTEM_USER_ID, add_user, require_role
from governance.audit import unit_of_work
from governance.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from governance.identity_tables import ExternalIdentity, LocalCredential
from governance.store import read_session
from governance.tables import User

logger = logging.getLogger(__name__)

LOOPBACK_ADDRESSES = ("localhost", "127.0.0.1", "::1")
# NIST SP 800-63B-4, 3.1.1.2: at least 15 characters where a password is the
# only factor; a maximum of at least 64 lets people use pass phrases.
MIN_PASSWORD_LENGTH = 15
MAX_PASSWORD_LENGTH = 256
_SIGN_IN_REFUSED = (
    "Unknown username or wrong password. Check both and try again; an "
    "administrator can reset a forgotten password."
)


@dataclass(frozen=True)
class SignedIn:
    """The outcome of a successful sign-in: who, and how."""

    user_id: str
    display_name: str
    method: str


@lru_cache(maxsize=1)
def _hasher() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Verified against when the username is unknown, so a refusal takes as long
    # whether or not the account exists (no username enumeration by timing).
    return str(_hasher().hash("not a password of anyone" * 2))


def demo_mode_allowed(server_address: str | None) -> bool:
    """Whether demo sign-in may run on a server listening on ``server_address``.

    An empty address means every interface, which is not allowed.
    """
    return (server_address or "").strip().strip("[]") in LOOPBACK_ADDRESSES


def require_demo_allowed(server_address: str | None) -> None:
    """Raise unless the server listens on a loopback address only.

    Raises
    ------
    PermissionDeniedError
        When demo sign-in would be reachable from a network.
    """
    if not demo_mode_allowed(server_address):
        shown = server_address or "every interface"
        raise PermissionDeniedError(
            f"Demo sign-in lets anyone act as any demo person, so it runs only on a "
            f"server listening on localhost; this one listens on {shown}. Set "
            "GOVERNANCE_AUTH=local or oidc, or start the server with "
            "--server.address localhost."
        )


def check_password_rules(password: str) -> str:
    """``password`` if it meets the length rules, else an InvalidInputError."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidInputError(
            f"A password needs {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} "
            f"characters; this one has {len(password)}. A pass phrase of a few "
            "words is easiest to remember."
        )
    return password


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (salted; encodes its own parameters)."""
    return str(_hasher().hash(check_password_rules(password)))


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(_hasher().verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def create_local_account(
    engine: Engine,
    *,
    actor_id: str,
    username: str,
    display_name: str,
    email: str | None,
    password: str,
    roles: tuple[str, ...] = (),
) -> str:
    """Create a user who signs in with a password; only an administrator may.

    Returns
    -------
    str
        The new user's id.

    Raises
    ------
    PermissionDeniedError
        Unless the actor is an active administrator.
    InvalidInputError
        When the username is empty or the password breaks the length rules.
    ConflictError
        When the username is taken.
    """
    name = username.strip().lower()
    if not name or any(char.isspace() for char in name):
        raise InvalidInputError("Give a username without spaces, e.g. 'j.smith'.")
    password_hash = hash_password(password)
    with unit_of_work(engine) as work:
        require_role(work.session, actor_id, "admin")
        user = add_user(
            work,
            actor_id=actor_id,
            username=name,
            display_name=display_name.strip() or name,
            email=(email or "").strip() or None,
            roles=roles,
        )
        work.session.add(
            LocalCredential(
                user_id=user.id, password_hash=password_hash, set_by=actor_id
            )
        )
        work.record(
            actor_id=actor_id,
            action="credential.password_set",
            entity_type="user",
            entity_id=user.id,
            payload={"method": "local"},
        )
        user_id = user.id
    logger.info("Local account %s created by %s", user_id, actor_id)
    return user_id


def set_password(engine: Engine, *, actor_id: str, user_id: str, password: str) -> None:
    """Set or reset a local account's password; only an administrator may."""
    password_hash = hash_password(password)
    with unit_of_work(engine) as work:
        require_role(work.session, actor_id, "admin")
        if work.session.get(User, user_id) is None:
            raise NotFoundError(f"No user with id {user_id}.")
        credential = work.session.get(LocalCredential, user_id)
        if credential is None:
            credential = LocalCredential(
                user_id=user_id, password_hash=password_hash, set_by=actor_id
            )
        credential.password_hash, credential.set_by = password_hash, actor_id
        work.session.add(credential)
        work.record(
            actor_id=actor_id,
            action="credential.password_set",
            entity_type="user",
            entity_id=user_id,
            payload={"method": "local"},
        )


def sign_in_local(engine: Engine, username: str, password: str) -> SignedIn:
    """Check a username and password and record the sign-in.

    Raises
    ------
    PermissionDeniedError
        With one message for an unknown username and a wrong password, and a
        message of its own for a deactivated account (told only after the
        password matched).
    """
    name = username.strip().lower()
    with read_session(engine) as session:
        user = session.exec(select(User).where(User.username == name)).first()
        credential = session.get(LocalCredential, user.id) if user else None
    if user is None or credential is None:
        verify_password(_dummy_hash(), password)
        logger.warning("Sign-in refused for unknown local user %r", name)
        raise PermissionDeniedError(_SIGN_IN_REFUSED)
    if not verify_password(credential.password_hash, password):
        logger.warning("Sign-in refused for %s: wrong password", user.id)
        raise PermissionDeniedError(_SIGN_IN_REFUSED)
    if not user.is_active:
        raise PermissionDeniedError(
            "This account is deactivated; ask an administrator to reactivate it."
        )
    _rehash_if_needed(engine, user.id, credential.password_hash, password)
    _record_sign_in(engine, user.id, "local")
    return SignedIn(user.id, user.display_name or user.username, "local")


def _rehash_if_needed(
    engine: Engine, user_id: str, password_hash: str, password: str
) -> None:
    if not _hasher().check_needs_rehash(password_hash):
        return
    with unit_of_work(engine) as work:
        credential = work.session.get(LocalCredential, user_id)
        if credential is not None:
            credential.password_hash = _hasher().hash(password)
            work.session.add(credential)
        work.record(
            actor_id=user_id,
            action="credential.rehashed",
            entity_type="user",
            entity_id=user_id,
            payload={"reason": "argon2 parameters changed"},
        )


def _record_sign_in(engine: Engine, user_id: str, method: str) -> None:
    with unit_of_work(engine) as work:
        work.record(
            actor_id=user_id,
            action="identity.signed_in",
            entity_type="user",
            entity_id=user_id,
            payload={"method": method},
        )


def sign_in_oidc(engine: Engine, claims: Mapping[str, Any]) -> SignedIn | None:
    """Map an OpenID Connect identity (``st.user``'s claims) to a console user.

    The provider's ``iss`` and ``sub`` identify the person for good. On the first
    sign-in they are linked to the active user whose e-mail matches the claim's
    (unless the provider says the address is not verified).

    Returns
    -------
    SignedIn or None
        None when the person is not a user of the console: they hold no role.

    Raises
    ------
    InvalidInputError
        When the claims lack ``sub``.
    PermissionDeniedError
        When the linked account is deactivated.
    """
    subject = str(claims.get("sub") or "").strip()
    if not subject:
        raise InvalidInputError(
            "The identity provider sent no subject ('sub'); check the [auth] "
            "settings in .streamlit/secrets.toml."
        )
    issuer = str(claims.get("iss") or "").strip()
    with read_session(engine) as session:
        user = _linked_user(session, issuer, subject)
    if user is None:
        user = _link_by_email(engine, issuer, subject, claims)
    if user is None:
        logger.info("OIDC subject %s of %s is not a console user", subject, issuer)
        return None
    if not user.is_active:
        raise PermissionDeniedError(
            "This account is deactivated; ask an administrator to reactivate it."
        )
    _record_sign_in(engine, user.id, "oidc")
    return SignedIn(user.id, user.display_name or user.username, "oidc")


def linked_user_id(engine: Engine, claims: Mapping[str, Any]) -> str | None:
    """The console user an OpenID Connect identity is linked to, if any."""
    with read_session(engine) as session:
        user = _linked_user(
            session, str(claims.get("iss") or ""), str(claims.get("sub") or "")
        )
    return user.id if user is not None and user.is_active else None


def _linked_user(session: Session, issuer: str, subject: str) -> User | None:
    link = session.exec(
        select(ExternalIdentity).where(
            ExternalIdentity.issuer == issuer, ExternalIdentity.subject == subject
        )
    ).first()
    return session.get(User, link.user_id) if link else None


def _link_by_email(
    engine: Engine, issuer: str, subject: str, claims: Mapping[str, Any]
) -> User | None:
    email = str(claims.get("email") or "").strip().lower()
    if not email or claims.get("email_verified") is False:
        return None
    with unit_of_work(engine) as work:
        user = work.session.exec(
            select(User).where(func.lower(User.email) == email)
        ).first()
        if user is None or user.id == SYSTEM_USER_ID:
            return None
        already = work.session.exec(
            select(ExternalIdentity).where(
                ExternalIdentity.user_id == user.id, ExternalIdentity.issuer == issuer
            )
        ).first()
        if already is not None:
            logger.warning(
                "%s is linked to another subject of %s; not linking %s",
                user.id,
                issuer,
                subject,
            )
            return None
        work.session.add(
            ExternalIdentity(issuer=issuer, subject=subject, user_id=user.id)
        )
        work.record(
            actor_id=user.id,
            action="identity.linked",
            entity_type="user",
            entity_id=user.id,
            payload={"issuer": issuer, "subject": subject},
        )
        work.session.flush()
        work.session.expunge(user)
    return user


def set_active(
    engine: Engine, *, actor_id: str, user_id: str, is_active: bool, reason: str
) -> None:
    """Deactivate or reactivate a user; only an administrator may.

    A deactivated user keeps their id, roles and history in the audit trail but
    can neither sign in nor act: every action checks ``is_active``.

    Raises
    ------
    PermissionDeniedError
        Unless the actor is an administrator, or when an administrator would
        deactivate their own account (which could leave nobody to manage people).
    """
    text = reason.strip()
    if not text:
        raise InvalidInputError("Say why the account's status changes.")
    with unit_of_work(engine) as work:
        require_role(work.session, actor_id, "admin")
        user = work.session.get(User, user_id)
        if user is None or user.id == SYSTEM_USER_ID:
            raise NotFoundError(f"No user with id {user_id}.")
        if user_id == actor_id and not is_active:
            raise PermissionDeniedError(
                "You cannot deactivate your own account; ask another administrator."
            )
        if user.is_active == is_active:
            state = "active" if is_active else "deactivated"
            raise ConflictError(f"{user.username} is already {state}.")
        user.is_active = is_active
        work.session.add(user)
        work.record(
            actor_id=actor_id,
            action="user.reactivated" if is_active else "user.deactivated",
            entity_type="user",
            entity_id=user_id,
            payload={"reason": text},
        )


def active_user(engine: Engine, user_id: str | None) -> str | None:
    """``user_id`` when it names an active user (not the system), else None."""
    if not user_id or user_id == SYSTEM_USER_ID:
        return None
    with read_session(engine) as session:
        user = session.get(User, user_id)
    return user.id if user is not None and user.is_active else None


def has_local_password(engine: Engine, user_id: str) -> bool:
    """Whether the user can sign in with a local password."""
    with read_session(engine) as session:
        return session.get(LocalCredential, user_id) is not None


def seal_session(user_id: str, key: bytes) -> str:
    """A session token: the user id and its HMAC-SHA256 under the server's key.

    A token planted in a session without the key is refused by `open_session`.
    """
    mac = hmac.new(key, user_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{user_id}.{mac}"


def open_session(token: object, key: bytes) -> str | None:
    """The user id a token was sealed for, or None when it was not sealed by us."""
    if not isinstance(token, str) or "." not in token:
        return None
    user_id, _, mac = token.rpartition(".")
    expected = seal_session(user_id, key).rpartition(".")[2]
    return user_id if hmac.compare_digest(mac, expected) else None


def is_idle_expired(
    last_activity: datetime | None, now: datetime, idle_minutes: int
) -> bool:
    """Whether a session last active at ``last_activity`` has idled out by ``now``."""
    if last_activity is None:
        return False
    return now - last_activity > timedelta(minutes=idle_minutes)


@dataclass(frozen=True)
class AccountStatus:
    """Whether an account may act, and how it signs in."""

    is_active: bool
    has_password: bool
    is_linked: bool


def account_statuses(engine: Engine) -> dict[str, AccountStatus]:
    """Every user's account status, by user id."""
    with read_session(engine) as session:
        users = session.exec(select(User.id, User.is_active)).all()
        passwords = set(session.exec(select(LocalCredential.user_id)).all())
        linked = set(session.exec(select(ExternalIdentity.user_id)).all())
    return {
        user_id: AccountStatus(bool(active), user_id in passwords, user_id in linked)
        for user_id, active in users
    }
