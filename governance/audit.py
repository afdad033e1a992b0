"""The append-only, hash-chained audit trail.

Every state change in the console happens inside ``unit_of_work``, which opens a
write transaction and refuses to commit unless the change recorded its audit
event; the change and its event commit or roll back together.

Each event's hash is the SHA-256 of a canonical JSON document holding its
sequence number, time, actor, action, entity, payload and the previous event's
hash, so that altering, removing, reordering or inserting an event breaks the
chain at that event. ``verify_chain`` walks the stored trail; ``verify_lines``
walks an exported JSONL file without the database.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func
from sqlalchemy import event as orm_event
from sqlmodel import Session, col, select

from governance.errors import GovernanceError, InvalidInputError
from governance.store import write_session
from governance.tables import AuditEvent, utc_now

logger = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
_EXPORT_FIELDS = (
    "seq",
    "occurred_at",
    "actor_id",
    "action",
    "entity_type",
    "entity_id",
    "payload",
    "prev_hash",
    "hash",
)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no insignificant white space."""
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def format_time(moment: datetime) -> str:
    """An event time as ISO 8601 UTC with microseconds, the form that is hashed."""
    if moment.utcoffset() is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(
    *,
    seq: int,
    occurred_at: str,
    actor_id: str,
    action: str,
    entity_type: str,
    entity_id: str,
    payload: str,
    prev_hash: str,
) -> str:
    """SHA-256 over an event's fields and the hash of the event before it."""
    document = canonical_json(
        {
            "seq": seq,
            "occurred_at": occurred_at,
            "actor_id": actor_id,
            "action": action,
            "entity_type": entity_type,
            "entity_id": entity_id,
            "payload": payload,
            "prev_hash": prev_hash,
        }
    )
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


@dataclass
class UnitOfWork:
    """A write transaction and the audit events it will commit with."""

    session: Session
    events: list[AuditEvent] = field(default_factory=list)
    has_changes: bool = False

    def note_changes(self, session: Session, *_: Any) -> None:
        """Remember whether anything besides audit events is about to be written."""
        pending = [*session.new, *session.dirty, *session.deleted]
        if any(not isinstance(item, AuditEvent) for item in pending):
            self.has_changes = True

    def record(
        self,
        *,
        actor_id: str,
        action: str,
        entity_type: str,
        entity_id: str,
        payload: dict[str, Any] | None = None,
    ) -> AuditEvent:
        """Append one event to the chain inside this transaction."""
        self.session.flush()
        if self.events:
            # The write lock is held since the transaction began, so the head is
            # the event this unit of work appended last.
            prev_seq, prev_hash = self.events[-1].seq, self.events[-1].hash
        else:
            prev_seq, prev_hash = _chain_head(self.session)
        moment = utc_now()
        body = canonical_json(payload or {})
        event = AuditEvent(
            seq=prev_seq + 1,
            occurred_at=moment,
            actor_id=actor_id,
            action=action,
            entity_type=entity_type,
            entity_id=str(entity_id),
            payload=body,
            prev_hash=prev_hash,
            hash=event_hash(
                seq=prev_seq + 1,
                occurred_at=format_time(moment),
                actor_id=actor_id,
                action=action,
                entity_type=entity_type,
                entity_id=str(entity_id),
                payload=body,
                prev_hash=prev_hash,
            ),
        )
        self.session.add(event)
        self.session.flush()
        self.events.append(event)
        logger.info("Audit %s %s/%s by %s", action, entity_type, entity_id, actor_id)
        return event


class MissingAuditEventError(GovernanceError):
    """A unit of work tried to commit a change without recording its audit event."""


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[UnitOfWork]:
    """Run a state change and its audit event in one write transaction.

    The transaction commits only when the block finishes; an exception rolls
    everything back, and so does a block that changed rows without recording an
    event. A block that changed nothing may record nothing.
    """
    with write_session(engine) as session:
        work = UnitOfWork(session)
        orm_event.listen(session, "before_flush", work.note_changes)
        yield work
        session.flush()
        if work.has_changes and not work.events:
            raise MissingAuditEventError(
                "A change was about to be saved without its audit event; nothing was "
                "saved. This is a defect in the console: please report it."
            )


def _chain_head(session: Session) -> tuple[int, str]:
    latest = session.exec(
        select(AuditEvent).order_by(col(AuditEvent.seq).desc()).limit(1)
    ).first()
    if latest is None:
        return 0, GENESIS_HASH
    return latest.seq, latest.hash


@dataclass(frozen=True)
class ChainVerification:
    """Result of walking the audit chain."""

    is_intact: bool
    events_checked: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    reason: str | None = None

    def describe(self) -> str:
        """One line for a person: intact, or where and how the chain breaks."""
        if self.is_intact:
            return (
                f"Audit chain intact: {self.events_checked} events, head #{self.head_seq} "
                f"{self.head_hash[:16]}…"
            )
        return (
            f"Audit chain broken at sequence number {self.first_bad_seq}: {self.reason}"
        )


def verify_events(events: Iterable[dict[str, Any]]) -> ChainVerification:
    """Verify a sequence of events (dicts with the export fields), in order."""
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    for event in events:
        seq = event["seq"]
        problem = _problem(event, expected_seq, prev_hash)
        if problem is not None:
            return ChainVerification(
                False, checked, expected_seq - 1, prev_hash, seq, problem
            )
        expected_seq, prev_hash, checked = seq + 1, event["hash"], checked + 1
    return ChainVerification(True, checked, expected_seq - 1, prev_hash)


def _problem(event: dict[str, Any], expected_seq: int, prev_hash: str) -> str | None:
    if event["seq"] != expected_seq:
        return f"expected sequence number {expected_seq}, found {event['seq']} (events missing or reordered)"
    if event["prev_hash"] != prev_hash:
        return "its previous-hash does not match the event before it"
    recomputed = event_hash(**{k: event[k] for k in _EXPORT_FIELDS if k != "hash"})
    if recomputed != event["hash"]:
        return "its content does not match its hash (the event was altered)"
    return None


def iter_stored_events(
    engine: Engine, *, batch: int = 5000
) -> Iterator[dict[str, Any]]:
    """Every stored event as an export dict, in sequence order, read in batches."""
    last = 0
    while True:
        with Session(engine) as session:
            rows = session.exec(
                select(AuditEvent)
                .where(AuditEvent.seq > last)
                .order_by(col(AuditEvent.seq))
                .limit(batch)
            ).all()
        if not rows:
            return
        for row in rows:
            yield event_to_dict(row)
        last = rows[-1].seq


def event_to_dict(event: AuditEvent) -> dict[str, Any]:
    """An event in its export form: the fields exactly as hashed."""
    return {
        "seq": event.seq,
        "occurred_at": format_time(event.occurred_at),
        "actor_id": event.actor_id,
        "action": event.action,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "payload": event.payload,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def verify_chain(engine: Engine) -> ChainVerification:
    """Walk the stored audit trail and check every link."""
    result = verify_events(iter_stored_events(engine))
    log = logger.info if result.is_intact else logger.warning
    log("%s", result.describe())
    return result


def verify_lines(lines: Iterable[str]) -> ChainVerification:
    """Verify an exported JSONL audit file, without the database."""
    return verify_events(_parse_lines(lines))


def _parse_lines(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(
                f"Line {number} of the audit file is not JSON ({exc.msg}). "
                "Verify the file exactly as `audit export --format jsonl` wrote it."
            ) from exc
        missing = [name for name in _EXPORT_FIELDS if name not in event]
        if missing:
            raise InvalidInputError(
                f"Line {number} of the audit file lacks {', '.join(missing)}. "
                "Verify the file exactly as `audit export --format jsonl` wrote it."
            )
        yield event


def count_events(session: Session) -> int:
    """Number of events in the trail."""
    return int(session.exec(select(func.count()).select_from(AuditEvent)).one())


def export_jsonl(engine: Engine) -> Iterator[str]:
    """The whole trail as JSONL lines, in sequence order."""
    for event in iter_stored_events(engine):
        yield canonical_json(event) + "\n"


# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: str) -> str:
    """Prefix a cell a spreadsheet would run as a formula with an apostrophe."""
    return "'" + value if value.startswith(_FORMULA_PREFIXES) else value


def export_csv(engine: Engine) -> Iterator[str]:
    """The whole trail as CSV lines (header first), formula-like cells neutralised."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_EXPORT_FIELDS)
    for event in iter_stored_events(engine):
        writer.writerow(
            neutralise_cell(value) if isinstance(value, str) else value
            for value in (event[name] for name in _EXPORT_FIELDS)
        )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.getvalue():
        yield buffer.getvalue()


def recent_events(engine: Engine, *, limit: int = 200) -> list[AuditEvent]:
    """The newest ``limit`` events, newest first."""
    with Session(engine) as session:
        return list(
            session.exec(
                select(AuditEvent).order_by(col(AuditEvent.seq).desc()).limit(limit)
            ).all()  # type: ignore[union-attr]
        )
