"""The append-only, hash-chained audit trail.

Every state change in the console happens inside ``unit_of_work``, which opens a
write transaction and refuses to commit unless the change recorded its audit
event; the change and its event commit or roll back together.

Each event's hash is the SHA-256 of a canonical JSON document holding its
sequence number, time, actor, action, entity, payload and the previous event's
hash, so that altering, removing, reordering or inserting an event breaks the
chain at that event. ``verify_chain`` walks the stored trail (from the latest
retention cut, if events were purged); ``verify_lines`` walks an exported JSONL
file without the database. Signed checkpoints of the head, which catch a
rewritten or cut-off tail, are in ``governance.records.checkpoints``.

Each event about a model also gets a row in ``audit_event_subject`` naming
the model and version it concerns (see `SubjectResolver`): the explorer in
``governance.records.explorer`` filters by model through it. Events of new
kinds about a model should name it: as the entity (a model, a version by row
id or "name/version", an approval request), or in the payload (``model`` or
``model_name``, with ``version``, or ``model_version_id``).

A JSONL export starts with a header line when it is filtered or begins after a
retention cut, and, written with the audit key, ends with a signed seal (its
last event, count, filters and start). An unfiltered export verifies as a
chain; a filtered one event by event, since it cannot show that nothing between
its events is missing, and the verifier says which it did.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import itertools
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    String,
    column,
    func,
    insert,
    inspect,
    table,
    type_coerce,
)
from sqlalchemy import event as orm_event
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from governance.audit_subject_tables import AuditEventSubject
from governance.errors import (
    GovernanceError,
    InvalidInputError,
    PermissionDeniedError,
)
from governance.store import read_session, write_session
from governance.tables import AuditEvent, wall_clock

logger = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
EXPORT_FIELDS = (
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
        moment = wall_clock()
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
        connection = self.session.connection()
        subject = SubjectResolver(connection)(entity_type, str(entity_id), payload)
        if subject is not None:
            connection.execute(
                insert(AuditEventSubject).values(
                    seq=event.seq, model_name=subject[0], model_version=subject[1]
                )
            )
        self.events.append(event)
        logger.info("Audit %s %s/%s by %s", action, entity_type, entity_id, actor_id)
        return event


# The store's tables as the resolver reads them: names and columns only, so the
# migration that backfills ``audit_event_subject`` reads them the same way.
_VERSIONS = table(
    "model_version", column("id"), column("model_name"), column("version")
)
# Entities whose row names the version it is about, by ``model_version_id``.
_VERSIONED_ENTITIES = {
    name: table(name, column("id"), column("model_version_id"))
    for name in (
        "approval_request",
        "incident",
        "alert",
        "compliance_report",
        "retraining_request",
    )
}
_HOLDS = table("legal_hold", column("id"), column("subject_type"), column("subject_id"))

Subject = tuple[str, str | None]


class SubjectResolver:
    """Which model and version an event is about, or None when it is about none.

    In order: the entity, when it is a model (``model``), a version (by row id
    or "name/version") or an approval request; then the payload's
    ``model_version_id``; then its ``model``/``model_name``, with ``version``
    when it carries one; then the entity's own row, for incidents, alerts,
    compliance reports and retraining requests (their later events name only
    the entity), a legal hold's subject, and a review's model (its scope,
    except for the console-wide governance review). A row id is looked up once
    per resolver: the rows read never change which version they name.
    """

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._versions: dict[int, Subject | None] = {}
        self._entities: dict[tuple[str, int], int | None] = {}

    def __call__(
        self, entity_type: str, entity_id: str, payload: dict[str, Any] | None
    ) -> Subject | None:
        """The subject of an event with this entity and (parsed) payload."""
        body = payload if isinstance(payload, dict) else {}
        if entity_type == "model":
            return entity_id, None
        if entity_type == "model_version":
            return self._version_by_entity(entity_id)
        if entity_type == "approval_request":
            return self._version(self._entity_version_id(entity_type, entity_id))
        named = self._named(body)
        if named is not None:
            return named
        if entity_type in _VERSIONED_ENTITIES:
            return self._version(self._entity_version_id(entity_type, entity_id))
        if entity_type == "legal_hold":
            return self._held(entity_id)
        if entity_type == "review" and body.get("review") != "governance":
            scope = body.get("scope")
            return (scope, None) if isinstance(scope, str) and scope else None
        return None

    def _version_by_entity(self, entity_id: str) -> Subject | None:
        if entity_id.isdigit():
            return self._version(int(entity_id))
        name, slash, version = entity_id.rpartition("/")
        return (name, version) if slash and name and version else None

    def _named(self, body: dict[str, Any]) -> Subject | None:
        version_id = body.get("model_version_id")
        if isinstance(version_id, int) and not isinstance(version_id, bool):
            found = self._version(version_id)
            if found is not None:
                return found
        model = body.get("model") or body.get("model_name")
        if not isinstance(model, str) or not model:
            return None
        version = body.get("version")
        if isinstance(version, bool) or not isinstance(version, str | int):
            return model, None
        return model, str(version) or None

    def _held(self, hold_id: str) -> Subject | None:
        if not hold_id.isdigit():
            return None
        row = self._connection.execute(
            sa_select(_HOLDS.c.subject_type, _HOLDS.c.subject_id).where(
                _HOLDS.c.id == int(hold_id)
            )
        ).first()
        if row is None:
            return None
        subject_type, subject_id = row
        if subject_type == "model":
            return subject_id, None
        if subject_type == "model_version" and subject_id.isdigit():
            return self._version(int(subject_id))
        if subject_type == "compliance_report":
            report = self._entity_version_id(subject_type, subject_id)
            return self._version(report)
        return None

    def _version(self, version_id: int | None) -> Subject | None:
        if version_id is None:
            return None
        if version_id not in self._versions:
            row = self._connection.execute(
                sa_select(_VERSIONS.c.model_name, _VERSIONS.c.version).where(
                    _VERSIONS.c.id == version_id
                )
            ).first()
            self._versions[version_id] = (row[0], row[1]) if row else None
        return self._versions[version_id]

    def _entity_version_id(self, entity_type: str, entity_id: str) -> int | None:
        if not entity_id.isdigit():
            return None
        key = (entity_type, int(entity_id))
        if key not in self._entities:
            rows = _VERSIONED_ENTITIES[entity_type]
            self._entities[key] = self._connection.execute(
                sa_select(rows.c.model_version_id).where(rows.c.id == key[1])
            ).scalar()
        return self._entities[key]


class MissingAuditEventError(GovernanceError):
    """A unit of work tried to commit a change without recording its audit event."""


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[UnitOfWork]:
    """Run a state change and its audit event in one write transaction.

    The transaction commits only when the block finishes; an exception rolls
    everything back, and so does a block that changed rows without recording an
    event. A block that changed nothing may record nothing.

    A refused action (``PermissionDeniedError``) rolls back like any other error,
    and then an ``access.denied`` event is recorded in a transaction of its own,
    naming the actor and the action the check saw (see `note_attempt`), so that
    monitoring can find bursts of refusals. The error is raised again.
    """
    attempt: dict[str, str] = {}
    try:
        with write_session(engine) as session:
            work = UnitOfWork(session)
            orm_event.listen(session, "before_flush", work.note_changes)
            try:
                yield work
            except PermissionDeniedError:
                attempt.update(session.info.get(_ATTEMPT_KEY, {}))
                raise
            session.flush()
            if work.has_changes and not work.events:
                raise MissingAuditEventError(
                    "A change was about to be saved without its audit event; nothing "
                    "was saved. This is a defect in the console: please report it."
                )
    except PermissionDeniedError as exc:
        _record_denial(engine, attempt, str(exc))
        raise


_ATTEMPT_KEY = "governance_attempt"


def note_attempt(
    session: Session,
    *,
    actor_id: str,
    action: str,
    entity_type: str = "",
    entity_id: str = "",
) -> None:
    """Remember who tries what in this transaction, for the denial record."""
    session.info[_ATTEMPT_KEY] = {
        "actor_id": actor_id,
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
    }


def _record_denial(engine: Engine, attempt: dict[str, str], message: str) -> None:
    try:
        with write_session(engine) as session:
            UnitOfWork(session).record(
                actor_id=attempt.get("actor_id") or "unknown",
                action="access.denied",
                entity_type=attempt.get("entity_type") or "access",
                entity_id=attempt.get("entity_id") or "-",
                payload={"attempted": attempt.get("action", ""), "message": message},
            )
    except GovernanceError as exc:
        # The refusal stands whether or not it could be recorded.
        logger.warning("Could not record a denied action: %s", exc)


def _chain_head(session: Session) -> tuple[int, str]:
    latest = session.exec(
        select(AuditEvent).order_by(col(AuditEvent.seq).desc()).limit(1)
    ).first()
    if latest is None:
        return 0, GENESIS_HASH
    return latest.seq, latest.hash


@dataclass(frozen=True)
class ChainVerification:
    """Result of walking the audit chain (stored, or an exported file).

    ``first_bad_seq`` is the first sequence number at which the records stop
    being trustworthy; ``starts_after`` is the retention cut the walk began
    after (0 when nothing was purged). For a filtered export ``is_filtered`` is
    set: each event was checked against its own hash, and where two consecutive
    sequence numbers are both present, the link between them, but the file
    cannot show that no event of the range is missing.
    """

    is_intact: bool
    events_checked: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    reason: str | None = None
    is_filtered: bool = False
    starts_after: int = 0
    checkpoints_checked: int = 0
    notes: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for a person: intact, or where and how the chain breaks."""
        if not self.is_intact:
            return (
                f"Audit chain broken at sequence number {self.first_bad_seq}: "
                f"{self.reason}"
            )
        if self.is_filtered:
            text = (
                f"Filtered export: {self.events_checked} events each match their own "
                "hash (and the event before them where it is in the file); chain "
                "continuity is not claimed for a filtered export."
            )
        else:
            cut = (
                f" after the retention cut at #{self.starts_after}"
                if self.starts_after
                else ""
            )
            text = (
                f"Audit chain intact: {self.events_checked} events{cut}, head "
                f"#{self.head_seq} {self.head_hash[:16]}…"
            )
            if self.checkpoints_checked:
                text += f"; {self.checkpoints_checked} signed checkpoint(s) match"
        return " ".join((text, *self.notes))


_EVENT_TEXT_FIELDS = EXPORT_FIELDS[1:]
_FIELD_SET = frozenset(EXPORT_FIELDS)
# The string encoder json.dumps uses; exports write their lines with it too.
encode_string = json.encoder.encode_basestring


def _fast_event_hash(event: dict[str, Any]) -> str:
    """`event_hash` of an export dict (see `_hash_fields`)."""
    return _hash_fields(
        int(event["seq"]),
        event["occurred_at"],
        event["actor_id"],
        event["action"],
        event["entity_type"],
        event["entity_id"],
        event["payload"],
        event["prev_hash"],
    )


def _hash_fields(
    seq: int,
    occurred_at: str,
    actor_id: str,
    action: str,
    entity_type: str,
    entity_id: str,
    payload: str,
    prev_hash: str,
) -> str:
    """`event_hash`, built without a dict and ``json.dumps``.

    The keys are written in sorted order with the same string encoder
    ``canonical_json`` uses (``ensure_ascii=False``), so the bytes hashed are
    the same (a test compares the two); verifying a million events is bound by
    this function.
    """
    document = (
        f'{{"action":{encode_string(action)},'
        f'"actor_id":{encode_string(actor_id)},'
        f'"entity_id":{encode_string(entity_id)},'
        f'"entity_type":{encode_string(entity_type)},'
        f'"occurred_at":{encode_string(occurred_at)},'
        f'"payload":{encode_string(payload)},'
        f'"prev_hash":{encode_string(prev_hash)},'
        f'"seq":{seq}}}'
    )
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


def verify_events(
    events: Iterable[dict[str, Any]],
    *,
    after_seq: int = 0,
    after_hash: str = GENESIS_HASH,
) -> ChainVerification:
    """Verify an unbroken run of events (export dicts), in sequence order.

    The first event must be ``after_seq + 1`` and link to ``after_hash``: the
    genesis, or the last event a retention purge removed.
    """
    expected_seq, prev_hash, checked = after_seq + 1, after_hash, 0
    for event in events:
        problem = _problem(event, expected_seq, prev_hash)
        if problem is not None:
            return ChainVerification(
                False,
                checked,
                expected_seq - 1,
                prev_hash,
                _bad_seq(event, expected_seq),
                problem,
                starts_after=after_seq,
            )
        expected_seq, prev_hash, checked = event["seq"] + 1, event["hash"], checked + 1
    return ChainVerification(
        True, checked, expected_seq - 1, prev_hash, starts_after=after_seq
    )


def verify_filtered_events(events: Iterable[dict[str, Any]]) -> ChainVerification:
    """Verify a filtered selection of events, each against its own hash.

    Sequence numbers must increase; where an event's predecessor is in the
    selection too, its ``prev_hash`` must equal that event's hash. Whether
    events of the range are missing cannot be told from a filtered selection.
    """
    last_seq, last_hash, checked = 0, GENESIS_HASH, 0
    for event in events:
        problem = _shape_problem(event)
        if problem is None and event["seq"] <= last_seq:
            problem = f"sequence number {event['seq']} follows {last_seq} (reordered)"
        is_linked = checked and event["seq"] == last_seq + 1
        if problem is None and is_linked and event["prev_hash"] != last_hash:
            problem = "its previous-hash does not match the event before it"
        if problem is None and _fast_event_hash(event) != event["hash"]:
            problem = "its content does not match its hash (the event was altered)"
        if problem is not None:
            return ChainVerification(
                False,
                checked,
                last_seq,
                last_hash,
                _bad_seq(event, last_seq + 1),
                problem,
                is_filtered=True,
            )
        last_seq, last_hash, checked = event["seq"], event["hash"], checked + 1
    return ChainVerification(True, checked, last_seq, last_hash, is_filtered=True)


def _bad_seq(event: dict[str, Any], expected_seq: int) -> int:
    seq = event.get("seq")
    return seq if isinstance(seq, int) and not isinstance(seq, bool) else expected_seq


def _shape_problem(event: dict[str, Any]) -> str | None:
    # One expression on the common path: this runs for every event of a file.
    if (
        type(event.get("seq")) is int
        and type(event.get("occurred_at")) is str
        and type(event.get("actor_id")) is str
        and type(event.get("action")) is str
        and type(event.get("entity_type")) is str
        and type(event.get("entity_id")) is str
        and type(event.get("payload")) is str
        and type(event.get("prev_hash")) is str
        and type(event.get("hash")) is str
    ):
        return None
    if type(event.get("seq")) is not int:
        return "its sequence number is not a whole number"
    wrong = next(
        name for name in _EVENT_TEXT_FIELDS if type(event.get(name)) is not str
    )
    return f"its {wrong} is not text"


def _problem(event: dict[str, Any], expected_seq: int, prev_hash: str) -> str | None:
    shape = _shape_problem(event)
    if shape is not None:
        return shape
    if event["seq"] != expected_seq:
        return (
            f"expected sequence number {expected_seq}, found {event['seq']} "
            "(events missing or reordered)"
        )
    if event["prev_hash"] != prev_hash:
        return "its previous-hash does not match the event before it"
    if _fast_event_hash(event) != event["hash"]:
        return "its content does not match its hash (the event was altered)"
    return None


_COLUMNS = tuple(getattr(AuditEvent, name) for name in EXPORT_FIELDS)


def _stored_time(value: Any) -> str:
    """An ``occurred_at`` as read by `select_events`, in its hashed form."""
    if isinstance(value, datetime):
        return format_time(value)
    # Read as "YYYY-MM-DD HH:MM:SS.ffffff" text in UTC (see `_time_as_text`);
    # rewriting the text is many times faster than parsing it.
    if len(value) == 26 and value[10] == " ":
        return f"{value[:10]}T{value[11:]}Z"
    return format_time(datetime.fromisoformat(value))


def _time_as_text(dialect: str) -> Any:
    """``occurred_at`` as UTC text in SQLite's layout, where the database can.

    SQLite keeps SQLAlchemy's text already. PostgreSQL formats it itself: a
    datetime per row costs more to build and format than the event's hash.
    """
    stored = col(AuditEvent.occurred_at)
    if dialect == "sqlite":
        return type_coerce(stored, String).label("occurred_at")
    if dialect == "postgresql":
        return func.to_char(
            func.timezone("UTC", stored), "YYYY-MM-DD HH24:MI:SS.US"
        ).label("occurred_at")
    return stored


def select_events(engine: Engine) -> Any:
    """A SELECT of the export fields, the time read as text where it can be."""
    time_text = _time_as_text(engine.dialect.name)
    return sa_select(
        *(time_text if stored.key == "occurred_at" else stored for stored in _COLUMNS)
    )


def row_to_dict(row: Any) -> dict[str, Any]:
    """A row of `select_events` as an export dict."""
    return {
        "seq": row[0],
        "occurred_at": _stored_time(row[1]),
        "actor_id": row[2],
        "action": row[3],
        "entity_type": row[4],
        "entity_id": row[5],
        "payload": row[6],
        "prev_hash": row[7],
        "hash": row[8],
    }


def iter_stored_events(
    engine: Engine,
    *,
    batch: int = 10_000,
    after_seq: int = 0,
    up_to_seq: int | None = None,
    where: Sequence[Any] = (),
) -> Iterator[dict[str, Any]]:
    """Stored events as export dicts, in sequence order, read in keyset batches.

    Rows are read as plain tuples, a batch per short read transaction, so a
    million events stream in constant memory without building ORM objects.
    ``up_to_seq`` is applied here rather than in the query: a closed range on
    ``seq`` lets PostgreSQL, without fresh statistics, sort the whole rest of
    the range for every batch instead of walking the primary key.
    """
    last = after_seq
    query = select_events(engine).where(*where).order_by(AuditEvent.seq)
    while True:
        with read_session(engine) as session:
            rows = (
                session.connection()
                .execute(query.where(AuditEvent.seq > last).limit(batch))
                .all()
            )
        for row in rows:
            if up_to_seq is not None and row[0] > up_to_seq:
                return
            yield row_to_dict(row)
        if len(rows) < batch:
            return
        last = rows[-1][0]


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


def retention_cut(engine: Engine) -> tuple[int, str]:
    """Where the chain starts: the latest retention purge's cut, else the genesis.

    Returns the last purged sequence number and its hash, which the first
    remaining event's ``prev_hash`` must equal (``0`` and the genesis hash when
    nothing was purged).
    """
    from governance.audit_records_tables import AuditPurge

    with read_session(engine) as session:
        if not inspect(session.connection()).has_table(AuditPurge.__tablename__):
            return 0, GENESIS_HASH
        latest = session.exec(
            select(AuditPurge).order_by(col(AuditPurge.up_to_seq).desc()).limit(1)
        ).first()
    if latest is None or latest.up_to_seq <= 0:
        return 0, GENESIS_HASH
    return latest.up_to_seq, latest.last_hash


def verify_chain(engine: Engine) -> ChainVerification:
    """Walk the stored audit trail from the retention cut and check every link.

    Rows are checked as the tuples the database returns, batch by batch, without
    building an object or a dict per event.
    """
    after_seq, after_hash = retention_cut(engine)
    expected_seq, prev_hash, checked = after_seq + 1, after_hash, 0
    result = None
    for rows in _stored_batches(engine, after_seq):
        for seq, moment, actor, action, kind, entity, payload, prev, digest in rows:
            problem = None
            if seq != expected_seq:
                problem = (
                    f"expected sequence number {expected_seq}, found {seq} "
                    "(events missing or reordered)"
                )
            elif prev != prev_hash:
                problem = "its previous-hash does not match the event before it"
            elif digest != _hash_fields(
                seq,
                _stored_time(moment),
                actor,
                action,
                kind,
                entity,
                payload,
                prev,
            ):
                problem = "its content does not match its hash (the event was altered)"
            if problem is not None:
                result = ChainVerification(
                    False,
                    checked,
                    expected_seq - 1,
                    prev_hash,
                    seq,
                    problem,
                    starts_after=after_seq,
                )
                break
            expected_seq, prev_hash, checked = seq + 1, digest, checked + 1
        if result is not None:
            break
    if result is None:
        result = ChainVerification(
            True, checked, expected_seq - 1, prev_hash, starts_after=after_seq
        )
    log = logger.info if result.is_intact else logger.warning
    log("%s", result.describe())
    return result


def _stored_batches(
    engine: Engine, after_seq: int, *, batch: int = 20_000
) -> Iterator[list[Any]]:
    """Every stored event after ``after_seq`` as raw rows, in keyset batches.

    Read with a DB-API cursor: building SQLAlchemy rows would cost more than
    hashing the events.
    """
    mark = "?" if engine.dialect.name == "sqlite" else "%s"
    columns = select_events(engine).compile(
        dialect=engine.dialect, compile_kwargs={"literal_binds": True}
    )
    sql = f"{columns} WHERE seq > {mark} ORDER BY seq LIMIT {mark}"
    last = after_seq
    while True:
        with read_session(engine) as session:
            driver = session.connection().connection.driver_connection
            assert driver is not None  # a checked-out connection has its driver's
            cursor = driver.cursor()
            try:
                cursor.execute(sql, (last, batch))
                chunk = cursor.fetchall()
            finally:
                cursor.close()
        if not chunk:
            return
        yield chunk
        last = chunk[-1][0]


def sign_document(key: bytes, document: dict[str, Any]) -> str:
    """HMAC-SHA256 of a document's canonical JSON, as hex."""
    return hmac.new(
        key, canonical_json(document).encode("utf-8"), hashlib.sha256
    ).hexdigest()


def has_valid_signature(key: bytes, document: dict[str, Any], signature: Any) -> bool:
    """Whether ``signature`` is `sign_document` of ``document`` under ``key``."""
    return isinstance(signature, str) and hmac.compare_digest(
        sign_document(key, document), signature
    )


# The first line of a JSONL export that is filtered or starts after a retention
# cut, and the signed last line of every export written with a key.
EXPORT_HEADER, EXPORT_SEAL = "audit_export", "audit_export_seal"


@dataclass
class _ExportFrame:
    """What an exported file says about itself, around its events."""

    header: dict[str, Any] = field(default_factory=dict)
    seal: dict[str, Any] | None = None
    events_after_seal: int | None = None


def verify_lines(
    lines: Iterable[str],
    *,
    key: bytes | None = None,
    observe: Callable[[dict[str, Any]], None] | None = None,
) -> ChainVerification:
    """Verify an exported JSONL audit file, without the database.

    An unfiltered export is verified as a chain from its first event (the
    genesis, or the retention cut its header names); a filtered export (its
    header lists the filters) event by event, see `verify_filtered_events`.
    The last line, the seal, names the export's last event and count and is
    signed with the audit key: with ``key`` the seal is required and its
    signature checked, so a file cut short, or re-headed as "filtered" to hide
    a gap, is detected; without a key the seal is compared with the events only.
    ``observe`` is called with each event as it is read.
    """
    iterator = iter(lines)
    frame = _ExportFrame()
    first = _first_record(iterator)
    if first is not None and EXPORT_HEADER in first[1]:
        frame.header = _header(first[1][EXPORT_HEADER], first[0])
        first = None
    events = _framed_events(first, iterator, frame, observe)
    if frame.header.get("filters"):
        result = verify_filtered_events(events)
    else:
        result = verify_events(
            events,
            after_seq=frame.header.get("after_seq", 0),
            after_hash=frame.header.get("after_hash", GENESIS_HASH),
        )
    if not result.is_intact:
        return result
    return _check_seal(result, frame, key)


def _first_record(iterator: Iterator[str]) -> tuple[int, dict[str, Any]] | None:
    for number, line in enumerate(iterator, start=1):
        if line.strip():
            return number, _json_line(line, number)
    return None


def _json_line(line: str, number: int) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"Line {number} of the audit file is not JSON ({exc.msg}). "
            "Verify the file exactly as `audit export --format jsonl` wrote it."
        ) from exc
    if not isinstance(record, dict):
        raise InvalidInputError(
            f"Line {number} of the audit file is not a JSON object. "
            "Verify the file exactly as `audit export --format jsonl` wrote it."
        )
    return record


def _header(value: Any, number: int) -> dict[str, Any]:
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("filters", {}), dict)
        or not isinstance(value.get("after_seq", 0), int)
        or not isinstance(value.get("after_hash", GENESIS_HASH), str)
    ):
        raise InvalidInputError(
            f"Line {number} of the audit file is a malformed export header. "
            "Verify the file exactly as `audit export --format jsonl` wrote it."
        )
    return value


def _framed_events(
    first: tuple[int, dict[str, Any]] | None,
    iterator: Iterator[str],
    frame: _ExportFrame,
    observe: Callable[[dict[str, Any]], None] | None,
) -> Iterator[dict[str, Any]]:
    records: Iterable[tuple[int, dict[str, Any]]] = (
        (number, _json_line(line, number))
        for number, line in enumerate(iterator, start=2)
        if line.strip()
    )
    if first is not None:
        records = itertools.chain([first], records)
    for number, record in records:
        if EXPORT_SEAL in record and frame.seal is None:
            frame.seal, frame.events_after_seal = record[EXPORT_SEAL], 0
            continue
        if not record.keys() >= _FIELD_SET:
            missing = [name for name in EXPORT_FIELDS if name not in record]
            raise InvalidInputError(
                f"Line {number} of the audit file lacks {', '.join(missing)}. "
                "Verify the file exactly as `audit export --format jsonl` wrote it."
            )
        if frame.events_after_seal is not None:
            frame.events_after_seal += 1
        if observe is not None:
            observe(record)
        yield record


def _seal_document(seal: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in seal.items() if name != "signature"}


def _check_seal(
    result: ChainVerification, frame: _ExportFrame, key: bytes | None
) -> ChainVerification:
    seal = frame.seal
    if seal is None:
        if key is None:
            return dataclasses.replace(
                result,
                notes=(
                    "The file carries no seal, so a missing tail cannot be ruled out.",
                ),
            )
        return _broken(
            result,
            result.head_seq + 1,
            "the file does not end with its signed seal (its tail was cut off)",
        )
    problem = _seal_mismatch(result, frame, seal)
    if problem is not None:
        return _broken(result, *problem)
    if key is None:
        return dataclasses.replace(
            result,
            notes=("The seal's signature was not checked: no audit key was given.",),
        )
    if not has_valid_signature(key, _seal_document(seal), seal.get("signature")):
        return _broken(
            result,
            result.head_seq,
            "the export's seal does not carry a valid signature (the file was "
            "altered, or sealed with another key)",
        )
    return dataclasses.replace(result, notes=("The export's seal is validly signed.",))


def _seal_mismatch(
    result: ChainVerification, frame: _ExportFrame, seal: dict[str, Any]
) -> tuple[int, str] | None:
    if frame.events_after_seal:
        return result.head_seq - frame.events_after_seal + 1, "events follow the seal"
    if seal.get("filters", {}) != frame.header.get("filters", {}) or seal.get(
        "after_seq", 0
    ) != frame.header.get("after_seq", 0):
        return result.head_seq, "the header does not match the sealed filters or start"
    last_seq = seal.get("last_seq")
    if not isinstance(last_seq, int) or last_seq > result.head_seq:
        return (
            result.head_seq + 1,
            f"the seal names event #{last_seq} as the last, the file ends at "
            f"#{result.head_seq} (its tail was cut off)",
        )
    if last_seq < result.head_seq:
        return last_seq + 1, f"the seal ends at #{last_seq}; later events were added"
    if seal.get("last_hash") != result.head_hash:
        return result.head_seq, "the last event's hash differs from the sealed one"
    if seal.get("events") != result.events_checked:
        return (
            result.head_seq,
            f"the seal counts {seal.get('events')} events, the file holds "
            f"{result.events_checked} (events were removed)",
        )
    return None


def _broken(result: ChainVerification, seq: int, reason: str) -> ChainVerification:
    return dataclasses.replace(
        result, is_intact=False, first_bad_seq=seq, reason=reason
    )


def count_events(session: Session) -> int:
    """Number of events in the trail."""
    return int(session.exec(select(func.count()).select_from(AuditEvent)).one())


def chain_head(engine: Engine) -> tuple[int, str]:
    """The newest event's sequence number and hash (``0`` and genesis if none)."""
    with read_session(engine) as session:
        return _chain_head(session)


def recent_events(engine: Engine, *, limit: int = 200) -> list[AuditEvent]:
    """The newest ``limit`` events, newest first."""
    with Session(engine) as session:
        return list(
            session.exec(
                select(AuditEvent).order_by(col(AuditEvent.seq).desc()).limit(limit)
            ).all()  # type: ignore[union-attr]
        )
