"""The framework's periodic reports, generated from the records and kept.

Two reports, as the framework's "Compliance Reporting" names them and the policy
(``reporting``) times them: the compliance report (monthly) and the risk
assessment (quarterly). Each is built for one period from the records:

- every model version registered by the period's end with the risk level of its
  latest assessment made before the end;
- approval requests submitted and decided in the period, with their cycle times
  (request to decision) as SQL aggregates;
- the pre- and post-deployment checklist status of the versions being rolled out
  or in production (status when the report is generated);
- incidents reported, closed and still open at the period's end, with their
  playbook progress;
- the monitoring (retraining) triggers that fired in the period;
- training compliance on the period's last day (``governance.records.training``).

The quarterly risk assessment adds the versions whose risk level moved during the
quarter and the five risk factors of each version's latest assessment.

A report is one data object (`PeriodicReport`) rendered as HTML and PDF from the
same `Document` and kept by `governance.records.stored`: both files written once
under the evidence directory (regenerating a period makes a new report), their
SHA-256 digests in ``compliance_report`` and in the audit trail
(``report.generated``).

Times are UTC; a period runs from its first day at 00:00 up to, not including,
the first day of the next period.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine, and_, case, func, or_
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from governance.errors import InvalidInputError, WorkflowBlockedError
from governance.incident_tables import IncidentStep
from governance.operations_tables import RetrainingTrigger
from governance.policy import Policy
from governance.records.rendering import (
    Document,
    Facts,
    Paragraph,
    Section,
    Table,
    shown_hours,
    shown_score,
    shown_time,
)
from governance.records.stored import StoredReport, check_permission, keep_document
from governance.records.training import (
    CourseStatus,
    TrainingCompliance,
    overdue_training,
    training_compliance,
)
from governance.settings import Settings
from governance.store import read_session
from governance.tables import Assessment, Incident, ModelVersion, utc_now
from governance.workflow_tables import ApprovalRequest

logger = logging.getLogger(__name__)

GENERATE_PERMISSION = "report.generate"
RISK_LEVELS = ("high", "medium", "low")
UNASSESSED = "unassessed"
DECIDED_STATUSES = ("approved", "rejected")
ROLLOUT_STAGES = ("deployment", "production")


@dataclass(frozen=True)
class ReportKind:
    """A periodic report: its stored kind, title and the policy key timing it."""

    kind: str
    title: str
    cadence_key: str
    command: str


REPORT_KINDS: Mapping[str, ReportKind] = {
    # Framework, "Compliance Reporting": "Monthly compliance reports",
    # "Quarterly risk assessments"; the cadences are policy.reporting's.
    "monthly_compliance": ReportKind(
        "monthly_compliance", "Compliance report", "compliance_report", "monthly"
    ),
    "quarterly_risk": ReportKind(
        "quarterly_risk", "Risk assessment", "risk_assessment", "quarterly"
    ),
}
KIND_BY_COMMAND = {item.command: item.kind for item in REPORT_KINDS.values()}


# Periods -------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A reporting period: ``start`` inclusive, ``end`` exclusive (dates, UTC)."""

    start: date
    end: date
    label: str

    @property
    def last_day(self) -> date:
        """The period's last day."""
        return self.end - timedelta(days=1)

    @property
    def start_at(self) -> datetime:
        """The period's first instant (UTC)."""
        return datetime.combine(self.start, time(), tzinfo=UTC)

    @property
    def end_at(self) -> datetime:
        """The first instant after the period (UTC)."""
        return datetime.combine(self.end, time(), tzinfo=UTC)


def _month(year: int, month: int) -> Period:
    end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return Period(date(year, month, 1), end, f"{year:04d}-{month:02d}")


def _quarter(year: int, quarter: int) -> Period:
    first = 3 * (quarter - 1) + 1
    end = date(year + 1, 1, 1) if quarter == 4 else date(year, first + 3, 1)
    return Period(date(year, first, 1), end, f"{year:04d}-Q{quarter}")


_FORMS = {
    "daily": "YYYY-MM-DD",
    "weekly": "YYYY-Www (ISO week)",
    "monthly": "YYYY-MM",
    "quarterly": "YYYY-Qn or YYYY-MM (the quarter holding that month)",
    "annually": "YYYY",
}


def period_of(cadence: str, text: str | None = None, *, today: date) -> Period:
    """The period of ``cadence`` named by ``text``, or the one holding ``today``.

    Parameters
    ----------
    cadence
        ``daily``, ``weekly``, ``monthly``, ``quarterly`` or ``annually``.
    text
        ``2026-11`` (a month), ``2026-Q4`` (a quarter), ``2026`` (a year),
        ``2026-W48`` (an ISO week) or ``2026-11-30`` (a day), as fits the cadence;
        ``previous`` for the last period that has ended (what a scheduled job on the
        first day of a month reports on).
    today
        Chooses the period when ``text`` is empty or ``previous``.

    Raises
    ------
    InvalidInputError
        When ``text`` does not name a period of that cadence.
    """
    if cadence not in _FORMS:
        raise InvalidInputError(f"Unknown cadence {cadence!r}.")
    raw = (text or "").strip().upper()
    if raw == "PREVIOUS":
        current = _parse_period(cadence, "", today)
        return _parse_period(cadence, "", current.start - timedelta(days=1))
    try:
        return _parse_period(cadence, raw, today)
    except ValueError as exc:
        raise InvalidInputError(
            f"Period {text!r} is not a {cadence} period; write it as {_FORMS[cadence]}."
        ) from exc


def _parse_period(cadence: str, raw: str, today: date) -> Period:
    if cadence == "monthly":
        if not raw:
            return _month(today.year, today.month)
        year, month = _match(r"(\d{4})-(\d{2})", raw)
        date(year, month, 1)
        return _month(year, month)
    if cadence == "quarterly":
        if not raw:
            return _quarter(today.year, (today.month - 1) // 3 + 1)
        if re.fullmatch(r"\d{4}-Q[1-4]", raw):
            return _quarter(int(raw[:4]), int(raw[-1]))
        year, month = _match(r"(\d{4})-(\d{2})", raw)
        date(year, month, 1)
        return _quarter(year, (month - 1) // 3 + 1)
    if cadence == "annually":
        year = int(raw) if raw else today.year
        if not raw or re.fullmatch(r"\d{4}", raw):
            return Period(date(year, 1, 1), date(year + 1, 1, 1), f"{year:04d}")
        raise ValueError(raw)
    if cadence == "weekly":
        if raw:
            year, week = _match(r"(\d{4})-W(\d{2})", raw)
            start = date.fromisocalendar(year, week, 1)
        else:
            start = today - timedelta(days=today.weekday())
        iso = start.isocalendar()
        return Period(start, start + timedelta(days=7), f"{iso[0]}-W{iso[1]:02d}")
    day = date.fromisoformat(raw) if raw else today
    return Period(day, day + timedelta(days=1), day.isoformat())


def _match(pattern: str, raw: str) -> tuple[int, int]:
    found = re.fullmatch(pattern, raw)
    if found is None:
        raise ValueError(raw)
    return int(found.group(1)), int(found.group(2))


def report_period(
    policy: Policy, kind: str, text: str | None = None, *, today: date
) -> Period:
    """The period of report ``kind`` named by ``text`` (its cadence from the policy)."""
    spec = _kind(kind)
    cadence = getattr(policy.reporting, spec.cadence_key)
    return period_of(cadence, text, today=today)


def _kind(kind: str) -> ReportKind:
    if kind not in REPORT_KINDS:
        raise InvalidInputError(
            f"Unknown report {kind!r}; use one of {', '.join(REPORT_KINDS)}."
        )
    return REPORT_KINDS[kind]


# The report's data ---------------------------------------------------------


@dataclass(frozen=True)
class VersionRisk:
    """A model version with the risk level of its latest assessment then."""

    model: str
    version: str
    stage: str
    risk_level: str | None
    risk_score: float | None
    assessed_at: datetime | None
    assessment_id: int | None


@dataclass(frozen=True)
class RiskMovement:
    """A version whose risk level differs between the period's start and end."""

    model: str
    version: str
    level_at_start: str
    level_at_end: str


@dataclass(frozen=True)
class FactorRow:
    """The five risk factors of a version's latest assessment in the period."""

    model: str
    version: str
    factors: Mapping[str, float | None]


@dataclass(frozen=True)
class ApprovalRow:
    """One approval request submitted or closed in the period."""

    request_id: int
    model: str
    version: str
    status: str
    risk_level: str
    change_class: str
    requested_at: datetime
    closed_at: datetime | None
    cycle_hours: float | None
    has_mitigation_plan: bool


@dataclass(frozen=True)
class CycleTimes:
    """Request-to-decision times of the requests decided in the period, in hours."""

    decided: int
    mean_hours: float | None
    min_hours: float | None
    max_hours: float | None


@dataclass(frozen=True)
class ApprovalSummary:
    """Approval requests of the period and their cycle times."""

    submitted: int
    approved: int
    rejected: int
    withdrawn: int
    pending_at_end: int
    cycle: CycleTimes
    rows: tuple[ApprovalRow, ...]


@dataclass(frozen=True)
class ChecklistRow:
    """The checklist status of a version being rolled out or in production."""

    model: str
    version: str
    stage: str
    pre_done: int
    pre_total: int
    post_done: int
    post_total: int
    open_items: tuple[str, ...]

    @property
    def is_complete(self) -> bool:
        """Both checklists fully ticked."""
        return self.pre_done == self.pre_total and self.post_done == self.post_total


@dataclass(frozen=True)
class IncidentRow:
    """One incident reported in the period or open at its end."""

    incident_id: int
    model: str
    version: str
    kind: str
    severity: str
    status: str
    reported_at: datetime
    closed_at: datetime | None
    steps_done: int = 0
    steps_total: int = 0


@dataclass(frozen=True)
class IncidentSummary:
    """Incidents of the period."""

    reported: int
    closed: int
    open_at_end: int
    by_kind: Mapping[str, int]
    by_severity: Mapping[str, int]
    rows: tuple[IncidentRow, ...]


@dataclass(frozen=True)
class TriggerRow:
    """One monitoring trigger that fired in the period."""

    trigger_id: int
    model: str
    version: str
    kind: str
    subject: str
    value: float
    threshold: float
    fired_at: datetime


@dataclass(frozen=True)
class TriggerSummary:
    """Monitoring (retraining) triggers that fired in the period."""

    fired: int
    by_kind: Mapping[str, int]
    rows: tuple[TriggerRow, ...]


@dataclass(frozen=True)
class TrainingSummary:
    """Training compliance on the period's last day (or the day generated)."""

    compliance: TrainingCompliance
    overdue: tuple[CourseStatus, ...]


@dataclass(frozen=True)
class PeriodicReport:
    """Everything one periodic report says; both files are rendered from it."""

    kind: str
    title: str
    period: Period
    generated_at: datetime
    policy_version: str
    versions: tuple[VersionRisk, ...]
    risk_levels: Mapping[str, int]
    approvals: ApprovalSummary
    checklists: tuple[ChecklistRow, ...]
    incidents: IncidentSummary
    triggers: TriggerSummary
    training: TrainingSummary
    movements: tuple[RiskMovement, ...] = ()
    factors: tuple[FactorRow, ...] = ()

    @property
    def is_period_open(self) -> bool:
        """Whether the report was generated before its period ended."""
        return self.generated_at < self.period.end_at

    @property
    def compliance_rate(self) -> float | None:
        """Share of versions in rollout or production with both checklists done."""
        if not self.checklists:
            return None
        return sum(row.is_complete for row in self.checklists) / len(self.checklists)


def build_report(
    engine: Engine,
    policy: Policy,
    *,
    kind: str,
    period: Period,
    now: datetime | None = None,
) -> PeriodicReport:
    """Compute report ``kind`` for ``period`` from the records.

    Parameters
    ----------
    engine
        The store.
    policy
        The policy in force (its version is printed on the report).
    kind
        A key of `REPORT_KINDS`.
    period
        The period reported on.
    now
        When the report is generated (now by default).

    Returns
    -------
    PeriodicReport
        The report's data.
    """
    spec = _kind(kind)
    generated_at = now or utc_now()
    with read_session(engine) as session:
        versions = _version_risks(session, period.end_at)
        levels = _risk_level_counts(session, period.end_at)
        approvals = _approvals(session, period)
        checklists = _checklists(session)
        incidents = _incidents(session, period)
        quarterly = kind == "quarterly_risk"
        movements = _movements(session, period) if quarterly else ()
        factors = _factor_rows(session, period.end_at) if quarterly else ()
        triggers = _triggers(session, period)
    training = _training(engine, policy, period, generated_at)
    return PeriodicReport(
        kind=kind,
        title=f"{spec.title} {period.label}",
        period=period,
        generated_at=generated_at,
        policy_version=policy.version,
        versions=versions,
        risk_levels=levels,
        approvals=approvals,
        checklists=checklists,
        incidents=incidents,
        movements=movements,
        factors=factors,
        triggers=triggers,
        training=training,
    )


def _latest_assessments_before(end_at: datetime) -> Any:
    return (
        select(
            Assessment.model_version_id,
            func.max(col(Assessment.id)).label("assessment_id"),
        )
        .where(col(Assessment.created_at) < end_at)
        .group_by(col(Assessment.model_version_id))
        .subquery()
    )


def _version_risks(session: Session, end_at: datetime) -> tuple[VersionRisk, ...]:
    latest = _latest_assessments_before(end_at)
    query = (
        sql_select(
            col(ModelVersion.model_name),
            col(ModelVersion.version),
            col(ModelVersion.stage),
            col(Assessment.risk_level),
            col(Assessment.risk_score),
            col(Assessment.created_at),
            col(Assessment.id),
        )
        .outerjoin(latest, latest.c.model_version_id == ModelVersion.id)
        .outerjoin(Assessment, col(Assessment.id) == latest.c.assessment_id)
        .where(col(ModelVersion.registered_at) < end_at)
        .order_by(col(ModelVersion.model_name), col(ModelVersion.id))
    )
    return tuple(VersionRisk(*row) for row in session.execute(query).all())


def _risk_level_counts(session: Session, end_at: datetime) -> dict[str, int]:
    latest = _latest_assessments_before(end_at)
    level = func.coalesce(col(Assessment.risk_level), UNASSESSED)
    query = (
        sql_select(level, func.count(col(ModelVersion.id)))
        .select_from(ModelVersion)
        .outerjoin(latest, latest.c.model_version_id == ModelVersion.id)
        .outerjoin(Assessment, col(Assessment.id) == latest.c.assessment_id)
        .where(col(ModelVersion.registered_at) < end_at)
        .group_by(level)
    )
    counts = dict.fromkeys((*RISK_LEVELS, UNASSESSED), 0)
    counts.update({str(name): int(count) for name, count in session.execute(query)})
    return counts


def _hours_between(session: Session, start: Any, end: Any) -> Any:
    """SQL for the hours from ``start`` to ``end`` on the session's database."""
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 24.0
    return func.extract("epoch", end - start) / 3600.0


def _approvals(session: Session, period: Period) -> ApprovalSummary:
    start, end = period.start_at, period.end_at
    closed_in = and_(
        col(ApprovalRequest.closed_at) >= start, col(ApprovalRequest.closed_at) < end
    )
    submitted_in = and_(
        col(ApprovalRequest.requested_at) >= start,
        col(ApprovalRequest.requested_at) < end,
    )
    hours = _hours_between(
        session, col(ApprovalRequest.requested_at), col(ApprovalRequest.closed_at)
    )
    decided = and_(closed_in, col(ApprovalRequest.status).in_(DECIDED_STATUSES))
    count, mean, low, high = session.execute(
        sql_select(func.count(), func.avg(hours), func.min(hours), func.max(hours))
        .select_from(ApprovalRequest)
        .where(decided)
    ).one()
    by_status = dict(
        session.execute(
            sql_select(col(ApprovalRequest.status), func.count())
            .where(closed_in)
            .group_by(col(ApprovalRequest.status))
        ).all()
    )
    submitted = session.execute(
        sql_select(func.count()).select_from(ApprovalRequest).where(submitted_in)
    ).scalar_one()
    pending = session.execute(
        sql_select(func.count())
        .select_from(ApprovalRequest)
        .where(
            col(ApprovalRequest.requested_at) < end,
            or_(
                col(ApprovalRequest.closed_at).is_(None),
                col(ApprovalRequest.closed_at) >= end,
            ),
        )
    ).scalar_one()
    rows = session.execute(
        sql_select(
            col(ApprovalRequest.id),
            col(ModelVersion.model_name),
            col(ModelVersion.version),
            col(ApprovalRequest.status),
            col(ApprovalRequest.risk_level),
            col(ApprovalRequest.change_class),
            col(ApprovalRequest.requested_at),
            col(ApprovalRequest.closed_at),
            hours,
            col(ApprovalRequest.mitigation_plan).is_not(None),
        )
        .join(ModelVersion, col(ModelVersion.id) == ApprovalRequest.model_version_id)
        .where(or_(closed_in, submitted_in))
        .order_by(col(ApprovalRequest.requested_at), col(ApprovalRequest.id))
    ).all()
    return ApprovalSummary(
        submitted=int(submitted),
        approved=int(by_status.get("approved", 0)),
        rejected=int(by_status.get("rejected", 0)),
        withdrawn=sum(
            int(n) for s, n in by_status.items() if s not in DECIDED_STATUSES
        ),
        pending_at_end=int(pending),
        cycle=CycleTimes(int(count), _float(mean), _float(low), _float(high)),
        rows=tuple(_approval_row(*row) for row in rows),
    )


def _approval_row(
    request_id: int,
    model: str,
    version: str,
    status: str,
    risk_level: str,
    change_class: str,
    requested_at: datetime,
    closed_at: datetime | None,
    hours: Any,
    has_plan: Any,
) -> ApprovalRow:
    return ApprovalRow(
        request_id=request_id,
        model=model,
        version=version,
        status=status,
        risk_level=risk_level,
        change_class=change_class,
        requested_at=requested_at,
        closed_at=closed_at,
        cycle_hours=_float(hours) if closed_at is not None else None,
        has_mitigation_plan=bool(has_plan),
    )


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _checklists(session: Session) -> tuple[ChecklistRow, ...]:
    from governance.workflow.checklists import (
        post_deployment_items,
        pre_deployment_items,
    )

    versions = session.exec(
        select(ModelVersion)
        .where(col(ModelVersion.stage).in_(ROLLOUT_STAGES))
        .order_by(col(ModelVersion.model_name), col(ModelVersion.id))
    ).all()
    rows = []
    for version in versions:
        pre = pre_deployment_items(session, version)
        post = post_deployment_items(session, version)
        rows.append(
            ChecklistRow(
                model=version.model_name,
                version=version.version,
                stage=version.stage,
                pre_done=sum(item.is_done for item in pre),
                pre_total=len(pre),
                post_done=sum(item.is_done for item in post),
                post_total=len(post),
                open_items=tuple(
                    item.title for item in (*pre, *post) if not item.is_done
                ),
            )
        )
    return tuple(rows)


def _incidents(session: Session, period: Period) -> IncidentSummary:
    start, end = period.start_at, period.end_at
    reported_in = and_(
        col(Incident.reported_at) >= start, col(Incident.reported_at) < end
    )
    open_at_end = and_(
        col(Incident.reported_at) < end,
        or_(col(Incident.closed_at).is_(None), col(Incident.closed_at) >= end),
    )
    closed_in = and_(col(Incident.closed_at) >= start, col(Incident.closed_at) < end)

    def count(condition: Any) -> int:
        query = sql_select(func.count()).select_from(Incident).where(condition)
        return int(session.execute(query).scalar_one())

    def grouped(column: Any) -> dict[str, int]:
        query = (
            sql_select(column, func.count())
            .where(reported_in)
            .group_by(column)
            .order_by(column)
        )
        return {str(name): int(n) for name, n in session.execute(query).all()}

    steps = (
        sql_select(
            col(IncidentStep.incident_id),
            func.count().label("total"),
            func.sum(case((col(IncidentStep.status) == "done", 1), else_=0)).label(
                "done"
            ),
        )
        .group_by(col(IncidentStep.incident_id))
        .subquery()
    )
    rows = session.execute(
        sql_select(
            col(Incident.id),
            col(ModelVersion.model_name),
            col(ModelVersion.version),
            col(Incident.kind),
            col(Incident.severity),
            col(Incident.status),
            col(Incident.reported_at),
            col(Incident.closed_at),
            func.coalesce(steps.c.done, 0),
            func.coalesce(steps.c.total, 0),
        )
        .join(ModelVersion, col(ModelVersion.id) == Incident.model_version_id)
        .outerjoin(steps, steps.c.incident_id == Incident.id)
        .where(or_(reported_in, open_at_end, closed_in))
        .order_by(col(Incident.reported_at), col(Incident.id))
    ).all()
    return IncidentSummary(
        reported=count(reported_in),
        closed=count(closed_in),
        open_at_end=count(open_at_end),
        by_kind=grouped(col(Incident.kind)),
        by_severity=grouped(col(Incident.severity)),
        rows=tuple(
            IncidentRow(
                incident_id=row[0],
                model=row[1],
                version=row[2],
                kind=row[3],
                severity=row[4],
                status=row[5],
                reported_at=row[6],
                closed_at=row[7],
                steps_done=int(row[8]),
                steps_total=int(row[9]),
            )
            for row in rows
        ),
    )


def _levels_at(session: Session, end_at: datetime) -> dict[tuple[str, str], str]:
    return {
        (row.model, row.version): row.risk_level or UNASSESSED
        for row in _version_risks(session, end_at)
    }


def _movements(session: Session, period: Period) -> tuple[RiskMovement, ...]:
    before = _levels_at(session, period.start_at)
    after = _levels_at(session, period.end_at)
    return tuple(
        RiskMovement(model, version, before.get((model, version), UNASSESSED), level)
        for (model, version), level in after.items()
        if before.get((model, version), UNASSESSED) != level
    )


def _factor_rows(session: Session, end_at: datetime) -> tuple[FactorRow, ...]:
    from governance.assessment.risk import FACTOR_NAMES

    latest = _latest_assessments_before(end_at)
    query = (
        select(ModelVersion.model_name, ModelVersion.version, Assessment.evidence)
        .join(latest, latest.c.model_version_id == ModelVersion.id)
        .join(Assessment, col(Assessment.id) == latest.c.assessment_id)
        .order_by(col(ModelVersion.model_name), col(ModelVersion.id))
    )
    rows = []
    for model, version, evidence in session.exec(query).all():
        factors = ((evidence or {}).get("risk") or {}).get("factors") or {}
        rows.append(
            FactorRow(
                model,
                version,
                {name: _float(factors.get(name)) for name in FACTOR_NAMES},
            )
        )
    return tuple(rows)


def _triggers(session: Session, period: Period) -> TriggerSummary:
    fired_in = and_(
        col(RetrainingTrigger.fired_at) >= period.start_at,
        col(RetrainingTrigger.fired_at) < period.end_at,
    )
    kind = col(RetrainingTrigger.kind)
    by_kind = session.execute(
        sql_select(kind, func.count()).where(fired_in).group_by(kind).order_by(kind)
    ).all()
    rows = session.execute(
        sql_select(
            col(RetrainingTrigger.id),
            col(ModelVersion.model_name),
            col(ModelVersion.version),
            kind,
            col(RetrainingTrigger.subject),
            col(RetrainingTrigger.value),
            col(RetrainingTrigger.threshold),
            col(RetrainingTrigger.fired_at),
        )
        .join(ModelVersion, col(ModelVersion.id) == RetrainingTrigger.model_version_id)
        .where(fired_in)
        .order_by(col(RetrainingTrigger.fired_at), col(RetrainingTrigger.id))
    ).all()
    counts = {str(name): int(n) for name, n in by_kind}
    return TriggerSummary(
        fired=sum(counts.values()),
        by_kind=counts,
        rows=tuple(TriggerRow(*row) for row in rows),
    )


def _training(
    engine: Engine, policy: Policy, period: Period, now: datetime
) -> TrainingSummary:
    """Training compliance on the period's last day, or today if that is earlier."""
    on = min(period.last_day, now.astimezone(UTC).date())
    return TrainingSummary(
        compliance=training_compliance(engine, policy, on),
        overdue=tuple(overdue_training(engine, policy, on)),
    )


# The document --------------------------------------------------------------


def report_document(report: PeriodicReport) -> Document:
    """The report as a document, for HTML and PDF alike."""
    period = report.period
    state = (
        "the period was still running when this report was generated"
        if report.is_period_open
        else "the period had ended when this report was generated"
    )
    subtitle = (
        f"Period {period.start.isoformat()} to {period.last_day.isoformat()} (UTC); "
        f"generated {shown_time(report.generated_at)} under policy "
        f"{report.policy_version}; {state}."
    )
    sections = [
        _summary_section(report),
        _risk_section(report),
        *_quarterly_sections(report),
        _approval_section(report.approvals),
        _checklist_section(report),
        _incident_section(report.incidents),
        _trigger_section(report.triggers),
        _training_section(report.training),
    ]
    return Document(report.title, subtitle, tuple(sections))


def _summary_section(report: PeriodicReport) -> Section:
    approvals, incidents = report.approvals, report.incidents
    rate = report.compliance_rate
    facts = (
        ("Model versions on record", str(len(report.versions))),
        *(
            (f"Versions at {level} risk", str(report.risk_levels.get(level, 0)))
            for level in RISK_LEVELS
        ),
        ("Versions not assessed", str(report.risk_levels.get(UNASSESSED, 0))),
        ("Approval requests submitted", str(approvals.submitted)),
        ("Requests approved", str(approvals.approved)),
        ("Requests rejected", str(approvals.rejected)),
        ("Mean approval cycle time", shown_hours(approvals.cycle.mean_hours)),
        ("Incidents reported", str(incidents.reported)),
        ("Incidents open at the period's end", str(incidents.open_at_end)),
        (
            "Versions in rollout or production with both checklists complete",
            "-" if rate is None else f"{rate:.0%}",
        ),
        ("Monitoring triggers fired", str(report.triggers.fired)),
        (
            "Team members overdue on training",
            f"{report.training.compliance.members_overdue} of "
            f"{report.training.compliance.members}",
        ),
    )
    return Section("Summary", (Facts(facts),))


def _risk_section(report: PeriodicReport) -> Section:
    rows = tuple(
        (
            row.model,
            row.version,
            row.stage.replace("_", " "),
            row.risk_level or UNASSESSED,
            shown_score(row.risk_score),
            shown_time(row.assessed_at),
        )
        for row in report.versions
    )
    return Section(
        "Models and their risk levels",
        (
            Paragraph(
                "Each version with the risk level of its latest assessment made "
                "before the period's end; the stage is the version's stage when the "
                "report was generated."
            ),
            Table(
                ("Model", "Version", "Stage", "Risk level", "Risk score", "Assessed"),
                rows,
                empty="No model version was registered by the period's end.",
            ),
        ),
    )


def _quarterly_sections(report: PeriodicReport) -> list[Section]:
    if report.kind != "quarterly_risk":
        return []
    from governance.assessment.risk import FACTOR_NAMES

    movement = Table(
        ("Model", "Version", "Level at the start", "Level at the end"),
        tuple(
            (row.model, row.version, row.level_at_start, row.level_at_end)
            for row in report.movements
        ),
        empty="No version changed risk level in the period.",
    )
    factors = Table(
        ("Model", "Version", *(name.replace("_", " ") for name in FACTOR_NAMES)),
        tuple(
            (
                row.model,
                row.version,
                *(shown_score(row.factors.get(name)) for name in FACTOR_NAMES),
            )
            for row in report.factors
        ),
        empty="No version was assessed by the period's end.",
    )
    return [
        Section("Risk level changes in the period", (movement,)),
        Section("Risk factors of the latest assessments", (factors,)),
    ]


def _approval_section(approvals: ApprovalSummary) -> Section:
    cycle = approvals.cycle
    facts = Facts(
        (
            ("Submitted in the period", str(approvals.submitted)),
            ("Approved in the period", str(approvals.approved)),
            ("Rejected in the period", str(approvals.rejected)),
            ("Withdrawn or superseded in the period", str(approvals.withdrawn)),
            ("Pending at the period's end", str(approvals.pending_at_end)),
            ("Requests decided", str(cycle.decided)),
            ("Cycle time, mean", shown_hours(cycle.mean_hours)),
            ("Cycle time, shortest", shown_hours(cycle.min_hours)),
            ("Cycle time, longest", shown_hours(cycle.max_hours)),
        )
    )
    table = Table(
        (
            "Request",
            "Model",
            "Version",
            "Status",
            "Risk",
            "Change",
            "Requested",
            "Closed",
            "Cycle time",
            "Mitigation plan",
        ),
        tuple(
            (
                str(row.request_id),
                row.model,
                row.version,
                row.status,
                row.risk_level,
                row.change_class,
                shown_time(row.requested_at),
                shown_time(row.closed_at),
                shown_hours(row.cycle_hours),
                "yes" if row.has_mitigation_plan else "no",
            )
            for row in approvals.rows
        ),
        empty="No approval request was submitted or closed in the period.",
    )
    note = Paragraph(
        "Cycle time runs from the request to the decision that closed it (the last "
        "approval, or a rejection); it counts the requests decided in the period."
    )
    return Section("Approvals and their cycle times", (facts, note, table))


def _checklist_section(report: PeriodicReport) -> Section:
    table = Table(
        (
            "Model",
            "Version",
            "Stage",
            "Pre-deployment",
            "Post-deployment",
            "Open items",
        ),
        tuple(
            (
                row.model,
                row.version,
                row.stage,
                f"{row.pre_done}/{row.pre_total}",
                f"{row.post_done}/{row.post_total}",
                "; ".join(row.open_items) or "none",
            )
            for row in report.checklists
        ),
        empty="No version is being rolled out or in production.",
    )
    note = Paragraph(
        "The framework's pre-deployment and post-deployment checklists of every "
        "version being rolled out or in production, as they stood when the report "
        "was generated."
    )
    return Section("Checklist status", (note, table))


def _incident_section(incidents: IncidentSummary) -> Section:
    facts = Facts(
        (
            ("Reported in the period", str(incidents.reported)),
            ("Closed in the period", str(incidents.closed)),
            ("Open at the period's end", str(incidents.open_at_end)),
            (
                "Reported by kind",
                ", ".join(f"{k} {n}" for k, n in incidents.by_kind.items()) or "none",
            ),
            (
                "Reported by severity",
                ", ".join(f"{k} {n}" for k, n in incidents.by_severity.items())
                or "none",
            ),
        )
    )
    table = Table(
        (
            "Incident",
            "Model",
            "Version",
            "Kind",
            "Severity",
            "Status",
            "Reported",
            "Closed",
            "Playbook steps done",
        ),
        tuple(
            (
                str(row.incident_id),
                row.model,
                row.version,
                row.kind,
                row.severity,
                row.status,
                shown_time(row.reported_at),
                shown_time(row.closed_at),
                f"{row.steps_done}/{row.steps_total}" if row.steps_total else "-",
            )
            for row in incidents.rows
        ),
        empty="No incident was reported in the period or open at its end.",
    )
    return Section("Incidents", (facts, table))


def _trigger_section(triggers: TriggerSummary) -> Section:
    facts = Facts(
        (
            ("Fired in the period", str(triggers.fired)),
            (
                "By kind",
                ", ".join(f"{k} {n}" for k, n in triggers.by_kind.items()) or "none",
            ),
        )
    )
    table = Table(
        (
            "Trigger",
            "Model",
            "Version",
            "Kind",
            "Subject",
            "Value",
            "Threshold",
            "Fired",
        ),
        tuple(
            (
                str(row.trigger_id),
                row.model,
                row.version,
                row.kind,
                row.subject,
                f"{row.value:.3f}",
                f"{row.threshold:.3f}",
                shown_time(row.fired_at),
            )
            for row in triggers.rows
        ),
        empty="No monitoring trigger fired in the period.",
    )
    return Section("Monitoring triggers", (facts, table))


def _training_section(training: TrainingSummary) -> Section:
    compliance = training.compliance
    facts = Facts(
        (
            ("Judged on", compliance.on.isoformat()),
            ("Team members", str(compliance.members)),
            ("Members with an overdue course", str(compliance.members_overdue)),
            ("Overdue courses in all", str(compliance.overdue_total)),
        )
    )
    courses = Table(
        ("Course", "Members", "Current", "Due", "Overdue"),
        tuple(
            (c.title, str(c.members), str(c.current), str(c.due), str(c.overdue))
            for c in compliance.courses
        ),
        empty="The policy names no required course.",
    )
    overdue = Table(
        ("Person", "Course", "Due on", "Days overdue", "Why"),
        tuple(
            (
                s.display_name,
                s.course_title,
                s.due_on.isoformat(),
                str(s.days_overdue),
                s.reason,
            )
            for s in training.overdue
        ),
        empty="No one is overdue.",
    )
    return Section("Training compliance", (facts, courses, overdue))


def report_summary(report: PeriodicReport) -> str:
    """One line with the report's headline numbers (kept with the stored report)."""
    approvals, incidents = report.approvals, report.incidents
    levels = ", ".join(
        f"{report.risk_levels.get(level, 0)} {level}"
        for level in (*RISK_LEVELS, UNASSESSED)
    )
    return (
        f"{len(report.versions)} versions ({levels}); "
        f"{approvals.approved} approved, {approvals.rejected} rejected, mean cycle "
        f"{shown_hours(approvals.cycle.mean_hours)}; {incidents.reported} incidents "
        f"reported, {incidents.open_at_end} open at the end."
    )


def generate_report(
    settings: Settings,
    engine: Engine,
    policy: Policy,
    *,
    actor_id: str,
    kind: str,
    period: str | Period | None = None,
    now: datetime | None = None,
) -> StoredReport:
    """Generate, keep and audit periodic report ``kind`` for ``period``.

    Parameters
    ----------
    kind
        ``monthly_compliance`` or ``quarterly_risk``.
    period
        A `Period`, its text (``2026-11``, ``2026-Q4``), or None for the period
        holding today.
    now
        When the report is generated (now by default).

    Returns
    -------
    StoredReport
        The kept report; a period reported again makes a new report.

    Raises
    ------
    PermissionDeniedError
        Unless the actor is a compliance officer.
    InvalidInputError
        When the kind or period is not one the policy knows.
    WorkflowBlockedError
        When the period has not begun.
    """
    check_permission(engine, actor_id, GENERATE_PERMISSION)
    moment = now or utc_now()
    if not isinstance(period, Period):
        period = report_period(policy, kind, period, today=moment.date())
    if period.start_at > moment:
        raise WorkflowBlockedError(
            f"The period {period.label} has not begun; report on it once it has "
            "records, or choose the current or an earlier period."
        )
    report = build_report(engine, policy, kind=kind, period=period, now=moment)
    return keep_document(
        settings,
        engine,
        actor_id=actor_id,
        permission=GENERATE_PERMISSION,
        kind=kind,
        doc=report_document(report),
        policy_version=policy.version,
        summary=report_summary(report),
        label=period.label,
        period_start=period.start,
        period_end=period.last_day,
    )
