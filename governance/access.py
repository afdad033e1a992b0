"""People and the framework's roles.

Roles are stored in the database and read again on every action; nothing here
trusts a role that a caller claims. The permission table of the workflow builds on
``roles_of`` and ``require_role``.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session, select

from governance.audit import UnitOfWork, note_attempt, unit_of_work
from governance.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from governance.store import read_session
from governance.tables import RoleAssignment, User

logger = logging.getLogger(__name__)

SYSTEM_USER_ID = "system"
ROLES = (
    "model_owner",
    "data_scientist",
    "ml_engineer",
    "compliance_officer",
    "security_officer",
    "admin",
)
ROLE_TITLES = {
    "model_owner": "Model owner",
    "data_scientist": "Data scientist",
    "ml_engineer": "ML engineer",
    "compliance_officer": "Compliance officer",
    "security_officer": "Security officer",
    "admin": "Administrator",
}
_USER_ID_NAMESPACE = uuid.UUID("5b0f3c6e-3d1e-4c59-9d53-8f4a0e2f6a10")


def stable_user_id(username: str) -> str:
    """A deterministic, opaque id for a username (used for seeded accounts)."""
    return "u-" + uuid.uuid5(_USER_ID_NAMESPACE, username).hex[:16]


@dataclass(frozen=True)
class Person:
    """A user and the roles they hold now."""

    id: str
    username: str
    display_name: str
    roles: tuple[str, ...]

    @property
    def role_titles(self) -> str:
        """Roles as a person reads them, e.g. "Model owner, ML engineer"."""
        return ", ".join(ROLE_TITLES[role] for role in self.roles) or "no role"


def roles_of(session: Session, user_id: str) -> set[str]:
    """The roles ``user_id`` holds, read from the database now."""
    rows = session.exec(
        select(RoleAssignment.role).where(RoleAssignment.user_id == user_id)
    )
    return set(rows.all())


def require_role(session: Session, user_id: str, *roles: str) -> None:
    """Raise unless ``user_id`` is active and holds at least one of ``roles``."""
    note_attempt(session, actor_id=user_id, action="role:" + "|".join(roles))
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise PermissionDeniedError(f"User {user_id} is unknown or deactivated.")
    if not roles_of(session, user_id) & set(roles):
        wanted = " or ".join(ROLE_TITLES[role] for role in roles)
        raise PermissionDeniedError(
            f"{user.display_name or user.username} needs the role {wanted} for this; "
            "ask an administrator to grant it."
        )


def ensure_system_user(work: UnitOfWork) -> None:
    """Create the account that automated jobs act as, once."""
    if work.session.get(User, SYSTEM_USER_ID) is not None:
        return
    work.session.add(
        User(id=SYSTEM_USER_ID, username="system", display_name="Console (automated)")
    )
    work.record(
        actor_id=SYSTEM_USER_ID,
        action="user.created",
        entity_type="user",
        entity_id=SYSTEM_USER_ID,
        payload={"username": "system"},
    )


def add_user(
    work: UnitOfWork,
    *,
    actor_id: str,
    username: str,
    display_name: str,
    email: str | None,
    roles: tuple[str, ...],
    user_id: str | None = None,
) -> User:
    """Create a user with roles inside ``work``; the actor must be an administrator.

    The system account may also create users, for seeding a new store.
    """
    if actor_id != SYSTEM_USER_ID:
        require_role(work.session, actor_id, "admin")
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise InvalidInputError(
            f"Unknown role(s) {', '.join(unknown)}; use one of {', '.join(ROLES)}."
        )
    if work.session.exec(select(User).where(User.username == username)).first():
        raise ConflictError(
            f"A user named {username!r} already exists; choose another username."
        )

    user = User(
        id=user_id or "u-" + uuid.uuid4().hex[:16],
        username=username,
        display_name=display_name,
        email=email,
    )
    work.session.add(user)
    work.session.flush()
    for role in roles:
        work.session.add(
            RoleAssignment(user_id=user.id, role=role, granted_by=actor_id)
        )
    # The trail keeps the stable id only: a username, name or e-mail in an event
    # could never be erased, since events cannot change (GDPR erasure).
    work.record(
        actor_id=actor_id,
        action="user.created",
        entity_type="user",
        entity_id=user.id,
        payload={"roles": sorted(roles)},
    )
    return user


def grant_role(engine: Engine, *, actor_id: str, user_id: str, role: str) -> None:
    """Grant ``role`` to ``user_id``; only an administrator may."""
    if role not in ROLES:
        raise InvalidInputError(
            f"Unknown role {role!r}; use one of {', '.join(ROLES)}."
        )
    with unit_of_work(engine) as work:
        require_role(work.session, actor_id, "admin")
        if work.session.get(User, user_id) is None:
            raise NotFoundError(f"No user with id {user_id}.")
        if role in roles_of(work.session, user_id):
            raise ConflictError(f"User {user_id} already holds {ROLE_TITLES[role]}.")
        work.session.add(
            RoleAssignment(user_id=user_id, role=role, granted_by=actor_id)
        )
        work.record(
            actor_id=actor_id,
            action="role.granted",
            entity_type="user",
            entity_id=user_id,
            payload={"role": role},
        )


def revoke_role(engine: Engine, *, actor_id: str, user_id: str, role: str) -> None:
    """Take ``role`` away from ``user_id``; only an administrator may."""
    with unit_of_work(engine) as work:
        require_role(work.session, actor_id, "admin")
        assignment = work.session.exec(
            select(RoleAssignment).where(
                RoleAssignment.user_id == user_id, RoleAssignment.role == role
            )
        ).first()
        if assignment is None:
            raise NotFoundError(f"User {user_id} does not hold {role}.")
        work.session.delete(assignment)
        work.record(
            actor_id=actor_id,
            action="role.revoked",
            entity_type="user",
            entity_id=user_id,
            payload={"role": role},
        )


def list_people(engine: Engine, *, include_system: bool = False) -> list[Person]:
    """Every user with the roles they hold now, by display name."""
    with read_session(engine) as session:
        users = session.exec(select(User).order_by(User.display_name)).all()
        assignments = session.exec(select(RoleAssignment)).all()
    held: dict[str, list[str]] = {}
    for assignment in assignments:
        held.setdefault(assignment.user_id, []).append(assignment.role)
    return [
        Person(
            id=user.id,
            username=user.username,
            display_name=user.display_name or user.username,
            roles=tuple(role for role in ROLES if role in held.get(user.id, ())),
        )
        for user in users
        if include_system or user.id != SYSTEM_USER_ID
    ]


def get_person(engine: Engine, user_id: str) -> Person:
    """One user and the roles they hold now."""
    with read_session(engine) as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFoundError(f"No user with id {user_id}.")
        roles = roles_of(session, user_id)
    return Person(
        id=user.id,
        username=user.username,
        display_name=user.display_name or user.username,
        roles=tuple(role for role in ROLES if role in roles),
    )
