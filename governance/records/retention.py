"""Retention of records, legal holds, and archiving a model when it is retired.

The policy's ``retention`` section keeps each class of record a number of years
(the framework's "Document Retention"). What each clock runs from:

``audit_log``
    An event's ``occurred_at``.
``compliance_reports``
    A periodic report's ``created_at`` (a report with no model version). The
    per-version documents are records of their model and go with it.
``retired_models``
    The model's ``retired_at``: every row that depends on the model (versions,
    evidence, cards, sign-offs, monitoring, documents, the retirement archive)
    and the evidence files they name.
``active_models``
    Never: the records of a model still in use are kept while it is active;
    their clock starts when the model is retired.

A record is due when it is strictly older than the purge date minus the years,
counted in calendar years from midnight UTC of that date (29 February counts
from 28 February); so a record becomes due on the day after its anniversary.
A purge never runs at a date later than today, and never deletes what a legal
hold keeps.

Audit events are deleted only as the oldest run of the chain (a prefix), so
that what remains still verifies from the recorded cut. The prefix stops before
the first event that is held, and it never takes the newest event, so the
chain always has a head for the next event to link to. The cut is written to
``audit_purge`` first, in the same transaction; the database's guard lets an
event be deleted only at or below that cut.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from governance.audit import (
    GENESIS_HASH,
    ChainVerification,
    UnitOfWork,
    event_to_dict,
    unit_of_work,
)
from governance.audit_records_tables import AuditPurge, LegalHold, ModelArchive
from governance.audit_subject_tables import AuditEventSubject
from governance.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    WorkflowBlockedError,
)
from governance.policy import Policy
from governance.records import _rows
from governance.records_tables import ComplianceReport
from governance.settings import Settings
from governance.store import read_session
from governance.tables import AuditEvent, GovernedModel, ModelVersion, utc_now
from governance.workflow.permissions import require_permission

logger = logging.getLogger(__name__)

RECORD_CLASSES = {
    "audit_log": "Audit log",
    "compliance_reports": "Compliance reports",
    "retired_models": "Retired models",
    "active_models": "Active models",
}
HOLD_SUBJECTS = {
    "model": "Model (by name)",
    "model_version": "Model version (by id)",
    "compliance_report": "Compliance report (by id)",
    "audit_log": "Audit log from a date",
}
ARCHIVE_FOLDER = "archives"
_BATCH = 5000


# --- Dates -----------------------------------------------------------------


def add_years(day: date, years: int) -> date:
    """``day`` moved by whole calendar years; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def retention_cutoff(as_of: date, years: int) -> datetime:
    """Records strictly older than this moment are past retention on ``as_of``."""
    return datetime.combine(add_years(as_of, -years), time.min, tzinfo=UTC)


def due_on(moment: datetime, years: int) -> date:
    """The first purge date on which a record made at ``moment`` is due."""
    return add_years(_utc(moment).date(), years) + timedelta(days=1)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _purge_date(as_of: date | None, now: datetime | None) -> date:
    today = (now or utc_now()).astimezone(UTC).date()
    chosen = as_of or today
    if chosen > today:
        raise InvalidInputError(
            f"A purge cannot run as of {chosen.isoformat()}, a date after today "
            f"({today.isoformat()}): records would go before they are due. "
            "Leave the date out or pick today or earlier."
        )
    return chosen


# --- Legal holds -------------------------------------------------------------

# The model and version an audit event is about (audit_event_subject), or None.
Subject = tuple[str | None, str | None]


@dataclass(frozen=True)
class Holds:
    """What the legal holds in force keep."""

    models: frozenset[str] = frozenset()
    version_ids: frozenset[int] = frozenset()
    versions: frozenset[tuple[str, str]] = frozenset()
    report_ids: frozenset[int] = frozenset()
    audit_from: date | None = None

    def keeps_event(self, event: AuditEvent, subject: Subject) -> bool:
        """Whether the event is about something held, or in the held audit period.

        ``subject`` is the model and version the event is about, from
        ``audit_event_subject`` (``(None, None)`` for an event about no model).
        """
        if self.audit_from is not None and _utc(event.occurred_at).date() >= (
            self.audit_from
        ):
            return True
        model, version = subject
        if model is not None and (
            model in self.models or (model, version) in self.versions
        ):
            return True
        key = event.entity_id
        return (
            event.entity_type == "compliance_report"
            and key.isdigit()
            and int(key) in self.report_ids
        )


def active_holds(session: Session) -> list[LegalHold]:
    """The legal holds not released, oldest first."""
    return list(
        session.exec(
            select(LegalHold)
            .where(col(LegalHold.released_at).is_(None))
            .order_by(col(LegalHold.id))
        ).all()
    )


def holds_in_force(session: Session) -> Holds:
    """What the unreleased holds keep, with each held version's model resolved.

    A hold on a version or on a per-version report also keeps the version's
    model: deleting the model would take the held rows with it.
    """
    holds = active_holds(session)
    models = {h.subject_id for h in holds if h.subject_type == "model"}
    version_ids = {
        int(h.subject_id) for h in holds if h.subject_type == "model_version"
    }
    report_ids = {
        int(h.subject_id) for h in holds if h.subject_type == "compliance_report"
    }
    audit_days = [h.held_from for h in holds if h.subject_type == "audit_log"]
    report_versions = session.exec(
        select(ComplianceReport.model_version_id).where(
            col(ComplianceReport.id).in_(report_ids)
        )
    ).all()
    version_ids_with_reports = version_ids | {v for v in report_versions if v}
    versions = session.exec(
        select(ModelVersion).where(col(ModelVersion.id).in_(version_ids_with_reports))
    ).all()
    return Holds(
        models=frozenset(models),
        version_ids=frozenset(version_ids),
        versions=frozenset((v.model_name, v.version) for v in versions),
        report_ids=frozenset(report_ids),
        audit_from=min((d for d in audit_days if d), default=None),
    )


def _models_held(holds: Holds) -> set[str]:
    return set(holds.models) | {name for name, _ in holds.versions}


def place_hold(
    engine: Engine,
    *,
    actor_id: str,
    subject_type: str,
    subject_id: str = "",
    held_from: date | None = None,
    reason: str,
) -> LegalHold:
    """Place a legal hold; only a compliance officer may. Audited.

    ``subject_id`` names a model, a version id or a report id; a hold on the
    audit log takes ``held_from`` instead and keeps every event from that day.
    """
    text = (reason or "").strip()
    if not text:
        raise InvalidInputError("Say why the records are held (the matter or request).")
    with unit_of_work(engine) as work:
        require_permission(work.session, actor_id, "retention.hold")
        subject = _check_subject(work.session, subject_type, subject_id, held_from)
        hold = LegalHold(
            subject_type=subject_type,
            subject_id=subject,
            held_from=held_from if subject_type == "audit_log" else None,
            reason=text,
            placed_by=actor_id,
        )
        work.session.add(hold)
        work.session.flush()
        work.record(
            actor_id=actor_id,
            action="retention.hold_placed",
            entity_type="legal_hold",
            entity_id=str(hold.id),
            payload={
                "subject_type": subject_type,
                "subject_id": subject,
                "held_from": held_from.isoformat() if held_from else None,
                "reason": text,
            },
        )
        work.session.expunge(hold)
    logger.info("Legal hold %s placed on %s %s", hold.id, subject_type, subject)
    return hold


def _check_subject(
    session: Session, subject_type: str, subject_id: str, held_from: date | None
) -> str:
    subject = (subject_id or "").strip()
    if subject_type == "audit_log":
        if held_from is None:
            raise InvalidInputError(
                "A hold on the audit log needs the first day it keeps (held from)."
            )
        return ""
    if subject_type == "model":
        if session.get(GovernedModel, subject) is None:
            raise NotFoundError(f"No governed model named {subject!r}.")
        return subject
    table: dict[str, type[ModelVersion] | type[ComplianceReport]] = {
        "model_version": ModelVersion,
        "compliance_report": ComplianceReport,
    }
    if subject_type not in table:
        raise InvalidInputError(
            f"Unknown hold subject {subject_type!r}; use one of {', '.join(HOLD_SUBJECTS)}."
        )
    if not subject.isdigit() or session.get(table[subject_type], int(subject)) is None:
        raise NotFoundError(f"No {subject_type.replace('_', ' ')} with id {subject!r}.")
    return subject


def release_hold(engine: Engine, *, actor_id: str, hold_id: int, reason: str) -> None:
    """Release a legal hold; only a compliance officer may. Audited."""
    text = (reason or "").strip()
    if not text:
        raise InvalidInputError("Say why the hold is released.")
    with unit_of_work(engine) as work:
        require_permission(work.session, actor_id, "retention.release")
        hold = work.session.get(LegalHold, hold_id)
        if hold is None:
            raise NotFoundError(f"No legal hold with id {hold_id}.")
        if hold.released_at is not None:
            raise ConflictError(f"Legal hold {hold_id} is already released.")
        hold.released_by, hold.released_at = actor_id, utc_now()
        hold.release_reason = text
        work.session.add(hold)
        work.record(
            actor_id=actor_id,
            action="retention.hold_released",
            entity_type="legal_hold",
            entity_id=str(hold_id),
            payload={"reason": text},
        )


def list_holds(engine: Engine, *, include_released: bool = True) -> list[LegalHold]:
    """Legal holds, newest first."""
    with read_session(engine) as session:
        query = select(LegalHold).order_by(col(LegalHold.id).desc())
        if not include_released:
            query = query.where(col(LegalHold.released_at).is_(None))
        return list(session.exec(query).all())


# --- What is due -------------------------------------------------------------


@dataclass(frozen=True)
class PurgePlan:
    """What a purge as of ``as_of`` deletes (a dry run shows it)."""

    as_of: date
    cut_seq: int
    cut_hash: str
    events: int
    models: tuple[str, ...]
    reports: tuple[int, ...]
    stopped_at_held_seq: int | None = None
    kept_held_models: tuple[str, ...] = ()
    kept_held_reports: tuple[int, ...] = ()

    @property
    def is_empty(self) -> bool:
        """Whether nothing is due."""
        return not (self.events or self.models or self.reports)

    def describe(self) -> str:
        """One line for a person."""
        if self.is_empty:
            text = f"Nothing is past retention as of {self.as_of.isoformat()}."
        else:
            text = (
                f"As of {self.as_of.isoformat()}: {self.events} audit events (up to "
                f"#{self.cut_seq}), {len(self.models)} retired models "
                f"({', '.join(self.models) or 'none'}), {len(self.reports)} "
                "compliance reports are past retention."
            )
        if self.stopped_at_held_seq is not None:
            text += (
                f" The audit purge stops before held event #{self.stopped_at_held_seq}."
            )
        return text


def plan_purge(
    engine: Engine,
    policy: Policy,
    *,
    as_of: date | None = None,
    now: datetime | None = None,
) -> PurgePlan:
    """What a purge as of ``as_of`` (default today) would delete; changes nothing."""
    day = _purge_date(as_of, now)
    with read_session(engine) as session:
        return _plan(session, policy, day)


def _plan(session: Session, policy: Policy, as_of: date) -> PurgePlan:
    years = policy.retention
    holds = holds_in_force(session)
    cut_seq, cut_hash, events, stopped = _event_prefix(
        session, holds, retention_cutoff(as_of, years.audit_logs_years)
    )
    models, kept_models = _due_models(
        session, holds, retention_cutoff(as_of, years.retired_models_years)
    )
    reports, kept_reports = _due_reports(
        session, holds, retention_cutoff(as_of, years.compliance_reports_years)
    )
    return PurgePlan(
        as_of=as_of,
        cut_seq=cut_seq,
        cut_hash=cut_hash,
        events=events,
        models=tuple(models),
        reports=tuple(reports),
        stopped_at_held_seq=stopped,
        kept_held_models=tuple(kept_models),
        kept_held_reports=tuple(kept_reports),
    )


def latest_cut(session: Session) -> tuple[int, str]:
    """The last purge's cut: the last deleted event's seq and hash."""
    purge = session.exec(
        select(AuditPurge).order_by(col(AuditPurge.up_to_seq).desc()).limit(1)
    ).first()
    return (purge.up_to_seq, purge.last_hash) if purge else (0, GENESIS_HASH)


def _event_prefix(
    session: Session, holds: Holds, cutoff: datetime
) -> tuple[int, str, int, int | None]:
    cut_seq, cut_hash = latest_cut(session)
    head = session.exec(select(func.max(AuditEvent.seq))).one() or 0
    count, stopped = 0, None
    for event, subject in _events_after(session, cut_seq):
        if event.seq >= head or _utc(event.occurred_at) >= cutoff:
            break
        if holds.keeps_event(event, subject):
            stopped = event.seq
            break
        cut_seq, cut_hash, count = event.seq, event.hash, count + 1
    return cut_seq, cut_hash, count, stopped


def _events_after(session: Session, seq: int) -> Iterator[tuple[AuditEvent, Subject]]:
    """Events after ``seq``, oldest first, each with the model it is about."""
    while True:
        batch = session.exec(
            select(
                AuditEvent,
                AuditEventSubject.model_name,
                AuditEventSubject.model_version,
            )
            .outerjoin(
                AuditEventSubject,
                col(AuditEventSubject.seq) == col(AuditEvent.seq),
            )
            .where(AuditEvent.seq > seq)
            .order_by(col(AuditEvent.seq))
            .limit(_BATCH)
        ).all()
        if not batch:
            return
        for event, model, version in batch:
            yield event, (model, version)
        seq = batch[-1][0].seq


def _due_models(
    session: Session, holds: Holds, cutoff: datetime
) -> tuple[list[str], list[str]]:
    retired = session.exec(
        select(GovernedModel)
        .where(GovernedModel.is_retired, col(GovernedModel.retired_at).is_not(None))
        .order_by(col(GovernedModel.name))
    ).all()
    held = _models_held(holds)
    due = [m.name for m in retired if m.retired_at and _utc(m.retired_at) < cutoff]
    return [n for n in due if n not in held], [n for n in due if n in held]


def _due_reports(
    session: Session, holds: Holds, cutoff: datetime
) -> tuple[list[int], list[int]]:
    rows = session.exec(
        select(ComplianceReport)
        .where(
            col(ComplianceReport.model_version_id).is_(None),
            col(ComplianceReport.created_at) < cutoff,
        )
        .order_by(col(ComplianceReport.id))
    ).all()
    due = [r.id for r in rows if r.id is not None]
    return (
        [i for i in due if i not in holds.report_ids],
        [i for i in due if i in holds.report_ids],
    )


# --- Purging -----------------------------------------------------------------


@dataclass(frozen=True)
class PurgeResult:
    """A purge that ran: its plan, the rows and files deleted, its record id."""

    plan: PurgePlan
    purge_id: int
    counts: dict[str, Any] = field(default_factory=dict)
    files_deleted: int = 0


def purge(
    settings: Settings,
    engine: Engine,
    policy: Policy,
    *,
    actor_id: str,
    as_of: date | None = None,
    now: datetime | None = None,
) -> PurgeResult:
    """Delete what is past retention as of ``as_of`` (default today). Audited.

    Only a compliance officer may. The cut is recorded in ``audit_purge`` before
    any event is deleted; the purge's own event is appended after the deletion,
    in the same transaction. Files are deleted after the commit. The caller
    verifies the chain and writes a checkpoint (``run_purge`` does both).
    """
    with unit_of_work(engine) as work:
        require_permission(work.session, actor_id, "retention.purge")
        day = _purge_date(as_of, now)
        plan = _plan(work.session, policy, day)
        files = _files_of(work.session, plan)
        targets = _targets(work.session.connection(), plan)
        counts = {
            "audit_log": plan.events,
            "compliance_reports": len(plan.reports),
            "retired_models": len(plan.models),
            "tables": _rows.count_rows(work.session.connection(), targets),
        }
        # The cut is recorded first: the database's guard reads it to allow the
        # deletion, and the row is append-only, so it carries the counts already.
        record = AuditPurge(
            up_to_seq=plan.cut_seq,
            last_hash=plan.cut_hash,
            as_of=day,
            purged_by=actor_id,
            counts=counts,
        )
        work.session.add(record)
        work.session.flush()
        _delete(work, plan, targets)
        work.record(
            actor_id=actor_id,
            action="retention.purged",
            entity_type="audit_purge",
            entity_id=str(record.id),
            payload={
                "as_of": day.isoformat(),
                "up_to_seq": plan.cut_seq,
                "last_hash": plan.cut_hash,
                "models": list(plan.models),
                "reports": list(plan.reports),
                "counts": counts,
                "stopped_at_held_seq": plan.stopped_at_held_seq,
            },
        )
        purge_id = record.id
    assert purge_id is not None
    deleted_files = _delete_files(settings, files)
    logger.info("Retention purge %s as of %s: %s", purge_id, day, counts)
    return PurgeResult(plan, purge_id, counts, deleted_files)


def _targets(connection: Any, plan: PurgePlan) -> list[_rows.Dependent]:
    """The rows of the due reports and retired models, and what depends on them."""
    metadata = _rows.reflect(connection)
    found: list[_rows.Dependent] = []
    if plan.reports:
        report = metadata.tables["compliance_report"]
        found += _rows.dependents(
            metadata, "compliance_report", report.c.id.in_(plan.reports)
        )
    if plan.models:
        model = metadata.tables["governed_model"]
        found += _rows.dependents(
            metadata, "governed_model", model.c.name.in_(plan.models)
        )
    return found


def _delete(work: UnitOfWork, plan: PurgePlan, targets: list[_rows.Dependent]) -> None:
    connection = work.session.connection()
    # An event's subject row refers to it, and no foreign key leads the model
    # walk below to it (a subject names a model by text): it goes first.
    subjects = AuditEventSubject.__table__  # type: ignore[attr-defined]
    connection.execute(subjects.delete().where(subjects.c.seq <= plan.cut_seq))
    events = AuditEvent.__table__  # type: ignore[attr-defined]
    connection.execute(events.delete().where(events.c.seq <= plan.cut_seq))
    _rows.delete_rows(connection, targets)


def _files_of(session: Session, plan: PurgePlan) -> list[str]:
    files: list[str] = []
    reports = session.exec(
        select(ComplianceReport).where(col(ComplianceReport.id).in_(plan.reports))
    ).all()
    for report in reports:
        files += [report.html_path, report.pdf_path]
    if not plan.models:
        return files
    connection = session.connection()
    metadata = _rows.reflect(connection)
    model = metadata.tables["governed_model"]
    found = _rows.dependents(metadata, "governed_model", model.c.name.in_(plan.models))
    rows = _rows.read_rows(connection, found)
    for row in rows.get("compliance_report", []):
        files += [row["html_path"], row["pdf_path"]]
    files += [row["path"] for row in rows.get("model_archive", [])]
    files += [row["artifact_dir"] for row in rows.get("assessment", [])]
    return [name for name in files if name]


def _delete_files(settings: Settings, names: list[str]) -> int:
    """Delete files and folders the purged rows named, only inside the home."""
    import shutil

    home = settings.home.resolve()
    deleted = 0
    for name in names:
        path = Path(name) if Path(name).is_absolute() else home / name
        path = path.resolve()
        if not path.is_relative_to(home) or path == home or not path.exists():
            continue
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
        deleted += 1
    return deleted


def run_purge(
    settings: Settings,
    engine: Engine,
    policy: Policy,
    *,
    actor_id: str,
    as_of: date | None = None,
    now: datetime | None = None,
) -> tuple[PurgeResult, ChainVerification]:
    """Purge between two signed checkpoints, then verify the remaining trail.

    The checkpoint before records the head the purge must leave untouched (it
    never deletes the newest event); the one after records the purge's own
    event. The verification walks the chain from the recorded cut and checks
    every checkpoint against it.
    """
    from governance.records.checkpoints import verify_audit_trail, write_checkpoint

    write_checkpoint(settings, engine)
    result = purge(settings, engine, policy, actor_id=actor_id, as_of=as_of, now=now)
    write_checkpoint(settings, engine)
    verification = verify_audit_trail(settings, engine)
    return result, verification


def purge_history(engine: Engine) -> list[AuditPurge]:
    """Every purge, newest first."""
    with read_session(engine) as session:
        return list(
            session.exec(select(AuditPurge).order_by(col(AuditPurge.id).desc())).all()
        )


# --- Status ------------------------------------------------------------------


@dataclass(frozen=True)
class ClassStatus:
    """How one class of record stands against its retention period."""

    record_class: str
    years: int
    records: int
    oldest: datetime | None
    becomes_due: date | None
    note: str = ""

    @property
    def label(self) -> str:
        """The class as a person reads it."""
        return RECORD_CLASSES[self.record_class]


def retention_status(engine: Engine, policy: Policy) -> list[ClassStatus]:
    """Per record class: how many records, the oldest, and when it becomes due."""
    years = policy.retention
    with read_session(engine) as session:
        events = session.exec(
            select(func.count(), func.min(AuditEvent.occurred_at))
        ).one()
        reports = session.exec(
            select(func.count(), func.min(ComplianceReport.created_at)).where(
                col(ComplianceReport.model_version_id).is_(None)
            )
        ).one()
        retired = session.exec(
            select(func.count(), func.min(GovernedModel.retired_at)).where(
                GovernedModel.is_retired
            )
        ).one()
        active = session.exec(
            select(func.count()).where(col(GovernedModel.is_retired).is_(False))
        ).one()
    rows = [
        ("audit_log", years.audit_logs_years, events, "from each event's time"),
        (
            "compliance_reports",
            years.compliance_reports_years,
            reports,
            "from each periodic report's creation",
        ),
        ("retired_models", years.retired_models_years, retired, "from retirement"),
    ]
    statuses = [
        ClassStatus(
            name,
            count_years,
            int(count),
            oldest,
            due_on(oldest, count_years) if oldest else None,
            note,
        )
        for name, count_years, (count, oldest), note in rows
    ]
    statuses.append(
        ClassStatus(
            "active_models",
            years.active_models_years,
            int(active),
            None,
            None,
            "kept while the model is active; the clock starts at retirement",
        )
    )
    return statuses


# --- Retiring a model --------------------------------------------------------


def retire_model(
    settings: Settings,
    engine: Engine,
    policy: Policy,
    *,
    actor_id: str,
    model_name: str,
    reason: str,
) -> ModelArchive:
    """Retire a model for good and archive its records; only a model owner may.

    Every version still in the workflow is retired, the model is marked retired
    with the time (its retention clock), and a zip of the model's rows, its
    evidence references and its audit events is written under the evidence
    directory; its SHA-256 is kept in ``model_archive`` and in the audit event.
    """
    from governance.workflow._state import EXIT_STAGES, set_stage

    text = (reason or "").strip()
    if not text:
        raise InvalidInputError("Say why the model is retired.")
    with unit_of_work(engine) as work:
        require_permission(work.session, actor_id, "model.retire")
        model = work.session.get(GovernedModel, model_name)
        if model is None:
            raise NotFoundError(f"No governed model named {model_name!r}.")
        if model.is_retired:
            raise WorkflowBlockedError(f"{model_name} is already retired.")
        versions = work.session.exec(
            select(ModelVersion).where(ModelVersion.model_name == model_name)
        ).all()
        retired_versions = []
        for version in versions:
            if version.stage not in EXIT_STAGES:
                _close_requests(work, actor_id, version, text)
                set_stage(
                    work,
                    actor_id=actor_id,
                    version=version,
                    stage="retired",
                    reason=text,
                )
                retired_versions.append(version.version)
        model.is_retired, model.retired_at = True, utc_now()
        work.session.add(model)
        work.session.flush()

        content = _archive_bytes(work.session, model, policy)
        path = _archive_path(settings, model_name, model.retired_at)
        digest = hashlib.sha256(content).hexdigest()
        archive = ModelArchive(
            model_name=model_name,
            path=str(path.relative_to(settings.home)),
            sha256=digest,
            size_bytes=len(content),
            created_by=actor_id,
        )
        work.session.add(archive)
        work.session.flush()
        work.record(
            actor_id=actor_id,
            action="model.retired",
            entity_type="model",
            entity_id=model_name,
            payload={
                "model": model_name,
                "reason": text,
                "versions_retired": retired_versions,
                "archive": archive.path,
                "archive_sha256": digest,
            },
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        work.session.expunge(archive)
    logger.info("Retired %s; archive %s (%s)", model_name, archive.path, digest[:12])
    return archive


def _close_requests(work: UnitOfWork, actor_id: str, version: Any, reason: str) -> None:
    from governance.workflow.approvals import close_pending_requests

    close_pending_requests(work, actor_id, version.id, "withdrawn", reason)


def _archive_path(settings: Settings, model_name: str, moment: datetime) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in model_name)
    stamp = _utc(moment).strftime("%Y%m%dT%H%M%S%fZ")
    return settings.evidence_dir / ARCHIVE_FOLDER / f"{safe}-{stamp}.zip"


def _archive_bytes(session: Session, model: GovernedModel, policy: Policy) -> bytes:
    connection = session.connection()
    metadata = _rows.reflect(connection)
    table = metadata.tables["governed_model"]
    found = _rows.dependents(metadata, "governed_model", table.c.name == model.name)
    rows = _rows.read_rows(connection, found)
    events = [event_to_dict(e) for e in _events_about(session, model.name)]
    manifest = {
        "model": model.name,
        "retired_at": _utc(model.retired_at or utc_now()).isoformat(),
        "policy_version": policy.version,
        "tables": {name: len(items) for name, items in rows.items()},
        "audit_events": len(events),
        "evidence": _evidence_references(rows),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("manifest.json", _dumps(manifest))
        bundle.writestr("rows.json", _dumps(rows))
        bundle.writestr(
            "audit_events.jsonl", "".join(_dumps(e, indent=None) + "\n" for e in events)
        )
    return buffer.getvalue()


def _dumps(value: Any, indent: int | None = 2) -> str:
    return json.dumps(value, indent=indent, sort_keys=True, default=str)


def _evidence_references(rows: dict[str, list[Any]]) -> list[dict[str, Any]]:
    references = [
        {"assessment_id": row["id"], "artifact_dir": row["artifact_dir"]}
        for row in rows.get("assessment", [])
        if row.get("artifact_dir")
    ]
    references += [
        {
            "compliance_report_id": row["id"],
            "html_path": row["html_path"],
            "html_sha256": row["html_sha256"],
            "pdf_path": row["pdf_path"],
            "pdf_sha256": row["pdf_sha256"],
        }
        for row in rows.get("compliance_report", [])
    ]
    return references


def _events_about(session: Session, model_name: str) -> list[AuditEvent]:
    """Every stored event about the model or one of its versions, oldest first."""
    return list(
        session.exec(
            select(AuditEvent)
            .join(
                AuditEventSubject,
                col(AuditEventSubject.seq) == col(AuditEvent.seq),
            )
            .where(AuditEventSubject.model_name == model_name)
            .order_by(col(AuditEvent.seq))
        ).all()
    )


def list_archives(engine: Engine) -> list[ModelArchive]:
    """Archives of retired models, newest first."""
    with read_session(engine) as session:
        return list(
            session.exec(
                select(ModelArchive).order_by(col(ModelArchive.id).desc())
            ).all()
        )
