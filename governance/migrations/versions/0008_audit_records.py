"""Retention purges, legal holds, retired models' archives; the purge-aware guard.

The audit trail stays append-only, except that a retention purge may delete the
oldest events: the DELETE guard now lets an event go only when its sequence number
is at or below the latest ``audit_purge.up_to_seq``, a row the purge writes first,
in the same transaction. UPDATE, TRUNCATE and any other DELETE are still refused.
``audit_purge`` itself is append-only, its cut never moves back, and a new cut must
name a stored event by its sequence number and hash.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 18:30:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64

# A new cut is valid when it names a stored event (the last one deleted), repeats
# the latest cut (a purge that deleted no event) or is the empty cut; it never
# moves back.
_SQLITE_BAD_CUT = f"""
    NEW.up_to_seq < COALESCE((SELECT MAX(up_to_seq) FROM audit_purge), 0)
    OR NOT (
        EXISTS (SELECT 1 FROM audit_event
                WHERE seq = NEW.up_to_seq AND hash = NEW.last_hash)
        OR EXISTS (SELECT 1 FROM audit_purge
                   WHERE up_to_seq = NEW.up_to_seq AND last_hash = NEW.last_hash)
        OR (NEW.up_to_seq = 0 AND NEW.last_hash = '{GENESIS_HASH}')
    )
"""
SQLITE_GUARDS = [
    "DROP TRIGGER audit_event_refuse_delete",
    """
    CREATE TRIGGER audit_event_refuse_delete
    BEFORE DELETE ON audit_event
    WHEN OLD.seq > COALESCE((SELECT MAX(up_to_seq) FROM audit_purge), 0)
    BEGIN
        SELECT RAISE(ABORT,
            'audit_event is append-only: DELETE refused beyond the authorised purge');
    END
    """,
    f"""
    CREATE TRIGGER audit_purge_check_cut
    BEFORE INSERT ON audit_purge
    WHEN {_SQLITE_BAD_CUT}
    BEGIN
        SELECT RAISE(ABORT,
            'audit_purge refused: the cut must name a stored event and never move back');
    END
    """,
    *(
        f"""
        CREATE TRIGGER audit_purge_refuse_{verb.lower()}
        BEFORE {verb} ON audit_purge
        BEGIN
            SELECT RAISE(ABORT, 'audit_purge is append-only: {verb} refused');
        END
        """
        for verb in ("UPDATE", "DELETE")
    ),
]
SQLITE_UNDO = [
    "DROP TRIGGER audit_purge_refuse_delete",
    "DROP TRIGGER audit_purge_refuse_update",
    "DROP TRIGGER audit_purge_check_cut",
    "DROP TRIGGER audit_event_refuse_delete",
    """
    CREATE TRIGGER audit_event_refuse_delete
    BEFORE DELETE ON audit_event
    BEGIN
        SELECT RAISE(ABORT, 'audit_event is append-only: DELETE refused');
    END
    """,
]

POSTGRESQL_GUARDS = [
    # Replaces migration 0001's function; its UPDATE/DELETE and TRUNCATE triggers
    # keep calling it. A TRUNCATE trigger is statement-level (OLD is null), hence
    # the nested test.
    """
    CREATE OR REPLACE FUNCTION audit_event_refuse_change() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            IF OLD.seq <= COALESCE((SELECT MAX(up_to_seq) FROM audit_purge), 0) THEN
                RETURN OLD;
            END IF;
            RAISE EXCEPTION
                'audit_event is append-only: DELETE refused beyond the authorised purge';
        END IF;
        RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP;
    END
    $$ LANGUAGE plpgsql
    """,
    f"""
    CREATE FUNCTION audit_purge_guard() RETURNS trigger AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            RAISE EXCEPTION 'audit_purge is append-only: % refused', TG_OP;
        END IF;
        IF NEW.up_to_seq < COALESCE((SELECT MAX(up_to_seq) FROM audit_purge), 0)
           OR NOT (
               EXISTS (SELECT 1 FROM audit_event
                       WHERE seq = NEW.up_to_seq AND hash = NEW.last_hash)
               OR EXISTS (SELECT 1 FROM audit_purge
                          WHERE up_to_seq = NEW.up_to_seq
                            AND last_hash = NEW.last_hash)
               OR (NEW.up_to_seq = 0 AND NEW.last_hash = '{GENESIS_HASH}')
           ) THEN
            RAISE EXCEPTION
                'audit_purge refused: the cut must name a stored event and never move back';
        END IF;
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER audit_purge_guard
    BEFORE INSERT OR UPDATE OR DELETE ON audit_purge
    FOR EACH ROW EXECUTE FUNCTION audit_purge_guard()
    """,
    """
    CREATE TRIGGER audit_purge_refuse_truncate
    BEFORE TRUNCATE ON audit_purge
    FOR EACH STATEMENT EXECUTE FUNCTION audit_purge_guard()
    """,
]
POSTGRESQL_UNDO = [
    "DROP TRIGGER audit_purge_refuse_truncate ON audit_purge",
    "DROP TRIGGER audit_purge_guard ON audit_purge",
    "DROP FUNCTION audit_purge_guard()",
    """
    CREATE OR REPLACE FUNCTION audit_event_refuse_change() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP;
    END
    $$ LANGUAGE plpgsql
    """,
]


def _text(name: str, length: int, *, nullable: bool = False) -> sa.Column:
    return sa.Column(
        name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=nullable
    )


def _time(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sqlmodel.sql.sqltypes.UTCDateTime(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "audit_purge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("up_to_seq", sa.Integer(), nullable=False),
        _text("last_hash", 64),
        sa.Column("as_of", sa.Date(), nullable=False),
        _text("purged_by", 64),
        _time("purged_at"),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["purged_by"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_purge", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_purge_up_to_seq"), ["up_to_seq"], unique=False
        )

    op.create_table(
        "legal_hold",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("subject_type", 40),
        _text("subject_id", 200),
        sa.Column("held_from", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        _text("placed_by", 64),
        _time("placed_at"),
        _text("released_by", 64, nullable=True),
        _time("released_at", nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["placed_by"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["released_by"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("legal_hold", schema=None) as batch_op:
        batch_op.create_index(
            "ix_legal_hold_subject", ["subject_type", "subject_id"], unique=False
        )

    op.create_table(
        "model_archive",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("model_name", 200),
        _text("path", 1000),
        _text("sha256", 64),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        _text("created_by", 64),
        _time("created_at"),
        sa.ForeignKeyConstraint(["created_by"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["model_name"], ["governed_model.name"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("model_archive", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_model_archive_model_name"), ["model_name"], unique=False
        )

    with op.batch_alter_table("governed_model", schema=None) as batch_op:
        batch_op.add_column(_time("retired_at", nullable=True))

    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_GUARDS if sqlite else POSTGRESQL_GUARDS:
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_UNDO if sqlite else POSTGRESQL_UNDO:
        op.execute(statement)

    with op.batch_alter_table("governed_model", schema=None) as batch_op:
        batch_op.drop_column("retired_at")
    with op.batch_alter_table("model_archive", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_archive_model_name"))
    op.drop_table("model_archive")
    with op.batch_alter_table("legal_hold", schema=None) as batch_op:
        batch_op.drop_index("ix_legal_hold_subject")
    op.drop_table("legal_hold")
    with op.batch_alter_table("audit_purge", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_purge_up_to_seq"))
    op.drop_table("audit_purge")
