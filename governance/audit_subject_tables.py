"""Which model (and version) each audit event is about (migration 0012).

An insert-only index beside the hash chain: ``UnitOfWork.record`` writes one
row for every event that concerns a model, in the same transaction, with the
subject `governance.audit.resolve_subject` finds. The explorer's model filter
reads it through its ``(model_name, seq)`` indexes instead of matching entity
ids and payload text, so a model with few events is found without a scan. The
row is not part of an event's hash: the chain stays the record, this table a
way into it. A retention purge deletes a purged event's row with the event.
"""

from __future__ import annotations

from sqlalchemy import Index
from sqlmodel import Field, SQLModel


class AuditEventSubject(SQLModel, table=True):
    """The model an audit event is about; ``model_version`` None for the whole model."""

    __tablename__ = "audit_event_subject"
    __table_args__ = (
        Index("ix_audit_event_subject_model", "model_name", "seq"),
        Index("ix_audit_event_subject_version", "model_name", "model_version", "seq"),
    )

    seq: int = Field(
        primary_key=True,
        foreign_key="audit_event.seq",
        sa_column_kwargs={"autoincrement": False},
    )
    model_name: str = Field(max_length=200)
    model_version: str | None = Field(default=None, max_length=40)
