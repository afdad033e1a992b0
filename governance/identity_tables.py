"""Tables of sign-in: local passwords and links to an OpenID Connect identity.

Declared apart from ``governance.tables`` so they arrive in their own migration
(``0004_identity``), and apart from ``user_account`` so a person's secret never
travels with the row every page reads. Both are written inside a unit of work
together with their audit event; the audit payload never holds a hash.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from governance.tables import utc_now


class LocalCredential(SQLModel, table=True):
    """The argon2 hash of a local account's password."""

    __tablename__ = "local_credential"

    user_id: str = Field(foreign_key="user_account.id", primary_key=True, max_length=64)
    password_hash: str = Field(max_length=255)
    set_by: str = Field(foreign_key="user_account.id", max_length=64)
    set_at: datetime = Field(default_factory=utc_now)


class ExternalIdentity(SQLModel, table=True):
    """An identity provider's subject, linked to one user of the console."""

    __tablename__ = "external_identity"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: int | None = Field(default=None, primary_key=True)
    issuer: str = Field(max_length=500)
    subject: str = Field(max_length=255)
    user_id: str = Field(foreign_key="user_account.id", index=True, max_length=64)
    linked_at: datetime = Field(default_factory=utc_now)
