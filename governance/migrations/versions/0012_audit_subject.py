"""The model and version each audit event is about, for the explorer's model filter.

Creates ``audit_event_subject`` and fills it for the events already stored, with
the resolver the unit of work uses for new events, reading the trail in chunks.
Only rows of the new table are inserted: the audit table's guards refuse UPDATE
and DELETE, and the events are left exactly as they are.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 19:30:00.000000
"""

import json

import sqlalchemy as sa
import sqlmodel
from alembic import op

from governance.audit import SubjectResolver

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_CHUNK = 5000


def upgrade() -> None:
    op.create_table(
        "audit_event_subject",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column(
            "model_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False
        ),
        sa.Column(
            "model_version", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True
        ),
        sa.ForeignKeyConstraint(["seq"], ["audit_event.seq"]),
        sa.PrimaryKeyConstraint("seq"),
    )
    with op.batch_alter_table("audit_event_subject", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_event_subject_model", ["model_name", "seq"], unique=False
        )
        batch_op.create_index(
            "ix_audit_event_subject_version",
            ["model_name", "model_version", "seq"],
            unique=False,
        )
    _backfill(op.get_bind())


def _backfill(connection: sa.Connection) -> None:
    events = sa.table(
        "audit_event",
        sa.column("seq"),
        sa.column("entity_type"),
        sa.column("entity_id"),
        sa.column("payload"),
    )
    subjects = sa.table(
        "audit_event_subject",
        sa.column("seq"),
        sa.column("model_name"),
        sa.column("model_version"),
    )
    resolve = SubjectResolver(connection)
    last = 0
    while True:
        chunk = connection.execute(
            sa.select(events)
            .where(events.c.seq > last)
            .order_by(events.c.seq)
            .limit(_CHUNK)
        ).all()
        if not chunk:
            return
        rows = []
        for seq, entity_type, entity_id, payload in chunk:
            subject = resolve(entity_type, entity_id, _parsed(payload))
            if subject is not None:
                rows.append(
                    {"seq": seq, "model_name": subject[0], "model_version": subject[1]}
                )
        if rows:
            connection.execute(sa.insert(subjects), rows)
        last = chunk[-1][0]


def _parsed(payload: str) -> dict[str, object] | None:
    try:
        body = json.loads(payload)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def downgrade() -> None:
    with op.batch_alter_table("audit_event_subject", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_subject_version")
        batch_op.drop_index("ix_audit_event_subject_model")
    op.drop_table("audit_event_subject")
