"""Helpers for the audit trail tests: appending events and tampering behind the guard."""

from __future__ import annotations

import json

from sqlalchemy import text

from governance.access import SYSTEM_USER_ID
from governance.audit import event_hash, unit_of_work


def append(engine, count, *, actor_id=SYSTEM_USER_ID, action="test.event"):
    """Append ``count`` events, one per unit of work; their sequence numbers."""
    seqs = []
    for number in range(count):
        with unit_of_work(engine) as work:
            event = work.record(
                actor_id=actor_id,
                action=action,
                entity_type="test",
                entity_id=str(number),
                payload={"number": number, "text": "née = ünïcode"},
            )
            seqs.append(event.seq)
    return seqs


def tamper(engine, *statements, params=None):
    """Run SQL on the trail with its append-only guard lifted, as an intruder would.

    The guard's triggers (migrations 0001 and 0008) are dropped on SQLite and
    disabled on PostgreSQL; the tests that call this do not need them back.
    """
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            for name in ("audit_event_refuse_update", "audit_event_refuse_delete"):
                connection.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
        else:
            connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        for statement in statements:
            if params is None:
                connection.exec_driver_sql(statement)
            else:
                connection.execute(text(statement), params)


def stored(engine, seq):
    """One stored event as a dict of its columns (time as the hashed text)."""
    from governance.audit import format_time
    from governance.store import read_session
    from governance.tables import AuditEvent

    with read_session(engine) as session:
        event = session.get(AuditEvent, seq)
        row = event.model_dump()
    row["occurred_at"] = format_time(event.occurred_at)
    return row


def rewrite_from(engine, seq, payload):
    """Replace event ``seq``'s payload and recompute every hash from there on.

    This is the forgery the chain alone cannot see: every link still holds.
    """
    from governance.audit import chain_head

    head, _ = chain_head(engine)
    prev_hash = stored(engine, seq)["prev_hash"]
    updates = []
    for number in range(seq, head + 1):
        row = stored(engine, number)
        if number == seq:
            row["payload"] = payload
        row["prev_hash"] = prev_hash
        row["hash"] = event_hash(**{k: row[k] for k in row if k != "hash"})
        prev_hash = row["hash"]
        updates.append(row)
    # Hashes are unique: park the rewritten rows' hashes first, then set them.
    tamper(
        engine,
        f"UPDATE audit_event SET hash = 'x' || CAST(seq AS VARCHAR(20)) "
        f"WHERE seq >= {seq}",
    )
    for row in updates:
        tamper(
            engine,
            "UPDATE audit_event SET payload = :payload, prev_hash = :prev_hash, "
            "hash = :hash WHERE seq = :seq",
            params={
                "payload": row["payload"],
                "prev_hash": row["prev_hash"],
                "hash": row["hash"],
                "seq": row["seq"],
            },
        )


def forge_lines(lines, seq, payload):
    """An exported file with event ``seq`` rewritten and later hashes recomputed."""
    forged, prev_hash = [], None
    for line in lines:
        record = json.loads(line)
        if "seq" in record and record["seq"] >= seq:
            if record["seq"] == seq:
                record["payload"] = payload
            else:
                record["prev_hash"] = prev_hash
            record["hash"] = event_hash(
                **{k: v for k, v in record.items() if k != "hash"}
            )
            prev_hash = record["hash"]
            line = json.dumps(record) + "\n"
        forged.append(line)
    return forged
