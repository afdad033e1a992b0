"""The audit explorer: which events match a filter, page by page, and their export.

`AuditFilter` holds the explorer's filters (model, version, actor, event types,
dates); `events_page` pages the matching events newest first with keyset
pagination on the sequence number; `export_jsonl` and `export_csv` write them.
An event concerns a model when ``audit_event_subject`` says so: the unit of
work writes that row as it records the event (`governance.audit.SubjectResolver`
says how the subject is found), and the model filter reads its index.

A JSONL export starts with a header line when it is filtered or begins after a
retention cut, and, written with the audit key, ends with a signed seal (its
last event, count, filters and start); `governance.audit.verify_lines` checks
such a file without the database.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from governance.audit import (
    EXPORT_FIELDS,
    EXPORT_HEADER,
    EXPORT_SEAL,
    GENESIS_HASH,
    canonical_json,
    chain_head,
    encode_string,
    format_time,
    iter_stored_events,
    retention_cut,
    row_to_dict,
    select_events,
    sign_document,
)
from governance.audit_subject_tables import AuditEventSubject
from governance.errors import InvalidInputError
from governance.store import read_session
from governance.tables import AuditEvent, utc_now


@dataclass(frozen=True)
class AuditFilter:
    """Which events the explorer shows and exports; an empty field matches all.

    ``since`` is inclusive and ``until`` exclusive (UTC). ``version`` needs
    ``model``. ``actions`` are exact event types, e.g. ``approval.approved``.
    """

    model: str | None = None
    version: str | None = None
    actor_id: str | None = None
    actions: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        if self.version and not self.model:
            raise InvalidInputError(
                "A version filter needs its model: choose the model first."
            )
        if self.since and self.until and _aware(self.since) >= _aware(self.until):
            raise InvalidInputError(
                "The date range is empty: its start must come before its end."
            )

    @property
    def is_filtered(self) -> bool:
        """Whether any filter is set (else the whole trail matches)."""
        return bool(self.describe())

    def describe(self) -> dict[str, Any]:
        """The filters that are set, JSON-ready (for an export's header)."""
        values: dict[str, Any] = {
            "model": self.model or None,
            "version": self.version or None,
            "actor_id": self.actor_id or None,
            "actions": sorted(self.actions) or None,
            "since": format_time(_aware(self.since)) if self.since else None,
            "until": format_time(_aware(self.until)) if self.until else None,
        }
        return {name: value for name, value in values.items() if value is not None}


def day_range(
    first: date | None, last: date | None
) -> tuple[datetime | None, datetime | None]:
    """Calendar days ``first`` to ``last`` (inclusive, UTC) as ``since``/``until``."""
    since = datetime.combine(first, time.min, UTC) if first else None
    until = datetime.combine(last, time.min, UTC) + timedelta(days=1) if last else None
    return since, until


def _aware(moment: datetime) -> datetime:
    return moment if moment.utcoffset() is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class AuditPage:
    """One page of the explorer, newest first.

    ``next_before`` is the cursor of the following (older) page: pass it as
    ``before``; None on the last page.
    """

    events: list[dict[str, Any]]
    next_before: int | None


def _subject_conditions(filters: AuditFilter) -> list[Any]:
    conditions = [col(AuditEventSubject.model_name) == filters.model]
    if filters.version:
        conditions.append(col(AuditEventSubject.model_version) == filters.version)
    return conditions


def _event_conditions(filters: AuditFilter) -> list[Any]:
    conditions: list[Any] = []
    if filters.actor_id:
        conditions.append(col(AuditEvent.actor_id) == filters.actor_id)
    if filters.actions:
        conditions.append(col(AuditEvent.action).in_(sorted(filters.actions)))
    if filters.since:
        conditions.append(col(AuditEvent.occurred_at) >= _aware(filters.since))
    if filters.until:
        conditions.append(col(AuditEvent.occurred_at) < _aware(filters.until))
    return conditions


def _conditions(filters: AuditFilter) -> list[Any]:
    """The filters as conditions on ``audit_event`` (for reading in seq order)."""
    conditions = _event_conditions(filters)
    if filters.model:
        about = select(AuditEventSubject.seq).where(*_subject_conditions(filters))
        conditions.append(col(AuditEvent.seq).in_(about))
    return conditions


def _page_query(
    session: Session, filters: AuditFilter, before: int | None, size: int
) -> Any:
    """The sequence numbers of a page, newest first.

    With a model, the subject table's ``(model_name[, model_version], seq)``
    index is read backwards from the cursor and each of its events checked
    against the other filters, so a model with few events costs a few seeks
    rather than a walk through the whole trail.
    """
    if filters.model:
        seq = col(AuditEventSubject.seq)
        query = select(AuditEventSubject.seq).where(*_subject_conditions(filters))
        others = _event_conditions(filters)
        if others:
            query = query.join(AuditEvent, col(AuditEvent.seq) == seq).where(*others)
    else:
        seq = col(AuditEvent.seq)
        query = select(AuditEvent.seq).where(*_event_conditions(filters))
        if _is_narrow_time_range(session, filters):
            # Read the range from the time index and sort it, instead of
            # scanning every newer event (or every event of the actor) first.
            # Same rows, another plan.
            query = query.with_hint(
                AuditEvent, "INDEXED BY ix_audit_event_time", "sqlite"
            )
    if before is not None:
        query = query.where(seq < before)
    return query.order_by(seq.desc()).limit(size + 1)


def events_page(
    engine: Engine,
    filters: AuditFilter | None = None,
    *,
    before: int | None = None,
    size: int = 50,
) -> AuditPage:
    """One page of matching events, newest first, after the cursor ``before``.

    Keyset pagination on ``seq``: the next page starts below the last sequence
    number shown, so events appended meanwhile neither shift nor repeat rows,
    and a deep page costs what the first does.
    """
    if size < 1:
        raise InvalidInputError("A page holds at least one event.")
    filters = filters or AuditFilter()
    with read_session(engine) as session:
        # The page's sequence numbers first, the events' columns second: the
        # first query then often runs on an index alone.
        seqs = list(session.exec(_page_query(session, filters, before, size)).all())
        rows = (
            session.connection()
            .execute(
                select_events(engine)
                .where(col(AuditEvent.seq).in_(seqs))
                .order_by(col(AuditEvent.seq).desc())
            )
            .all()
            if seqs
            else []
        )
    events = [row_to_dict(row) for row in rows[:size]]
    has_more = len(rows) > size
    return AuditPage(events, events[-1]["seq"] if has_more and events else None)


def _is_narrow_time_range(session: Session, filters: AuditFilter) -> bool:
    """Whether a date range holds fewer events than there are after it (SQLite).

    Estimated from the sequence numbers at the range's ends, found on the time
    index; SQLite has no statistics to choose between the time index and the
    primary key by itself. PostgreSQL's planner does, so it is left alone.
    """
    bind = session.get_bind()
    if bind.dialect.name != "sqlite" or not (filters.since or filters.until):
        return False
    head = session.exec(select(func.max(AuditEvent.seq))).one() or 0

    def first_seq_from(moment: datetime | None, default: int) -> int:
        if moment is None:
            return default
        found = session.exec(
            select(AuditEvent.seq)
            .where(col(AuditEvent.occurred_at) >= _aware(moment))
            .order_by(col(AuditEvent.occurred_at))
            .limit(1)
        ).first()
        return head if found is None else found

    start = first_seq_from(filters.since, 0)
    end = first_seq_from(filters.until, head)
    return end - start < head - end


def iter_events(
    engine: Engine,
    filters: AuditFilter | None = None,
    *,
    up_to_seq: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Matching events in sequence order (oldest first), streamed in batches."""
    conditions = _conditions(filters or AuditFilter())
    yield from iter_stored_events(engine, where=conditions, up_to_seq=up_to_seq)


def event_types(engine: Engine) -> list[str]:
    """Every action recorded in the trail, sorted.

    Read by skipping along the action index, one seek per distinct action, so
    it costs the same on a million events as on a hundred.
    """
    found: list[str] = []
    with read_session(engine) as session:
        while True:
            query = select(func.min(AuditEvent.action))
            if found:
                query = query.where(col(AuditEvent.action) > found[-1])
            action = session.exec(query).one()
            if action is None:
                return found
            found.append(action)


def export_jsonl(
    engine: Engine,
    filters: AuditFilter | None = None,
    *,
    key: bytes | None = None,
) -> Iterator[str]:
    """Matching events as JSONL lines, oldest first, framed for verification.

    A filtered export, or one whose chain starts after a retention cut, begins
    with a header line naming the filters or the cut; with ``key`` the last
    line is a seal signed with it (last event, count, filters, start). The
    export stops at the head it saw when it began, so events appended while
    it runs are left for the next export.
    """
    filters = filters or AuditFilter()
    head_seq, _ = chain_head(engine)
    after_seq, after_hash = retention_cut(engine)
    frame = {"filters": filters.describe(), "after_seq": after_seq}
    if filters.is_filtered or after_seq:
        yield (
            canonical_json(
                {
                    EXPORT_HEADER: {
                        **frame,
                        "after_hash": after_hash,
                        "head_seq": head_seq,
                    }
                }
            )
            + "\n"
        )
    count = 0
    last_seq, last_hash = (
        (0, GENESIS_HASH) if filters.is_filtered else (after_seq, after_hash)
    )
    for event in iter_events(engine, filters, up_to_seq=head_seq):
        yield _export_line(event)
        count, last_seq, last_hash = count + 1, event["seq"], event["hash"]
    if key is not None:
        seal = {
            **frame,
            "events": count,
            "last_seq": last_seq,
            "last_hash": last_hash,
            "sealed_at": format_time(utc_now()),
        }
        seal["signature"] = sign_document(key, seal)
        yield canonical_json({EXPORT_SEAL: seal}) + "\n"


def _export_line(event: dict[str, Any]) -> str:
    """``canonical_json(event)`` and a newline, built directly (a test compares)."""
    return (
        f'{{"action":{encode_string(event["action"])},'
        f'"actor_id":{encode_string(event["actor_id"])},'
        f'"entity_id":{encode_string(event["entity_id"])},'
        f'"entity_type":{encode_string(event["entity_type"])},'
        f'"hash":{encode_string(event["hash"])},'
        f'"occurred_at":{encode_string(event["occurred_at"])},'
        f'"payload":{encode_string(event["payload"])},'
        f'"prev_hash":{encode_string(event["prev_hash"])},'
        f'"seq":{int(event["seq"])}}}\n'
    )


# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: str) -> str:
    """Prefix a cell a spreadsheet would run as a formula with an apostrophe."""
    return "'" + value if value.startswith(_FORMULA_PREFIXES) else value


def export_csv(engine: Engine, filters: AuditFilter | None = None) -> Iterator[str]:
    """Matching events as CSV lines (header first), formula-like cells neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_FIELDS)
    for event in iter_events(engine, filters):
        writer.writerow(
            neutralise_cell(value) if isinstance(value, str) else value
            for value in (event[name] for name in EXPORT_FIELDS)
        )
        if buffer.tell() > 1 << 16:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.getvalue():
        yield buffer.getvalue()
