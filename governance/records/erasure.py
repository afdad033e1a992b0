"""Erasing a person's personal data on request (GDPR article 17).

The audit trail refers to people by their stable, opaque user id, so a person's
name and e-mail live only in ``user_account`` and the sign-in tables. Erasure
removes them there, replaces the username with a placeholder that says nothing
about the person, removes their password hash and linked sign-in identities,
and deactivates the account; the id stays, so every event that names it still
verifies. The erasure's own event holds that id and the reason, never the
erased values.

Events never carry a username, name or e-mail (``user.created`` records the
id and the roles), so nothing personal is left in the chain that erasure could
not reach. Stores created before this rule may hold ``user.created`` events
with the username chosen then; the hash chain makes those unchangeable until
their retention ends.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from governance.access import SYSTEM_USER_ID, require_role, roles_of
from governance.audit import unit_of_work
from governance.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from governance.identity_tables import ExternalIdentity, LocalCredential
from governance.tables import RoleAssignment, User

logger = logging.getLogger(__name__)

ERASED_PREFIX = "erased-"


@dataclass(frozen=True)
class Erasure:
    """What an erasure did: the stable id kept and the placeholder username."""

    user_id: str
    placeholder: str
    sign_in_records_removed: int


def is_erased(user: User) -> bool:
    """Whether the account's personal data was erased."""
    return user.username.startswith(ERASED_PREFIX) and user.email is None


def erase_person(
    engine: Engine, *, actor_id: str, user_id: str, reason: str
) -> Erasure:
    """Erase a person's name, e-mail and sign-in data; only an administrator may.

    Raises
    ------
    PermissionDeniedError
        Unless the actor is an administrator; also for the system account, for
        the actor's own account, and for the last active administrator.
    ConflictError
        When the person was erased already.
    """
    text = (reason or "").strip()
    if not text:
        raise InvalidInputError("Say why the data is erased (the request it answers).")
    with unit_of_work(engine) as work:
        session = work.session
        require_role(session, actor_id, "admin")
        user = session.get(User, user_id)
        if user is None:
            raise NotFoundError(f"No user with id {user_id}.")
        _check_erasable(session, actor_id, user)
        _check_reason_is_impersonal(text, user)

        placeholder = f"{ERASED_PREFIX}{secrets.token_hex(6)}"
        user.username, user.display_name, user.email = placeholder, None, None
        user.is_active = False
        session.add(user)
        removed = _remove_sign_in(session, user_id)
        work.record(
            actor_id=actor_id,
            action="user.erased",
            entity_type="user",
            entity_id=user_id,
            payload={"reason": text, "sign_in_records_removed": removed},
        )
    logger.info("Erased the personal data of user %s", user_id)
    return Erasure(user_id, placeholder, removed)


def _check_erasable(session: Session, actor_id: str, user: User) -> None:
    if user.id == SYSTEM_USER_ID:
        raise PermissionDeniedError(
            "The system account holds no personal data and cannot be erased."
        )
    if is_erased(user):
        raise ConflictError(f"User {user.id} was erased already.")
    if "admin" in roles_of(session, user.id) and user.is_active:
        others = session.exec(
            select(func.count())
            .select_from(RoleAssignment)
            .join(User, col(User.id) == RoleAssignment.user_id)
            .where(
                RoleAssignment.role == "admin",
                RoleAssignment.user_id != user.id,
                col(User.is_active),
            )
        ).one()
        if not others:
            raise PermissionDeniedError(
                "This is the last active administrator; grant the role to someone "
                "else before erasing this account."
            )
    if user.id == actor_id:
        raise PermissionDeniedError(
            "You cannot erase your own account; ask another administrator."
        )


def _check_reason_is_impersonal(reason: str, user: User) -> None:
    """Refuse a reason that repeats what is erased: it would stay in the trail."""
    lowered = reason.lower()
    erased = (user.username, user.display_name, user.email)
    if any(value and value.lower() in lowered for value in erased):
        raise InvalidInputError(
            "The reason repeats the person's name, username or e-mail, which would "
            "stay in the audit trail; refer to the request by its reference instead."
        )


def _remove_sign_in(session: Session, user_id: str) -> int:
    removed = 0
    credential = session.get(LocalCredential, user_id)
    if credential is not None:
        session.delete(credential)
        removed += 1
    for identity in session.exec(
        select(ExternalIdentity).where(ExternalIdentity.user_id == user_id)
    ).all():
        session.delete(identity)
        removed += 1
    return removed
