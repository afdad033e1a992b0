"""The framework's improvement metrics ("Continuous Improvement"), month by month.

Each series is one SQL query that groups by a month bucket computed in the
database (``'YYYY-MM'`` of the UTC time, written per dialect by `month_bucket`),
so the work scales with the months shown, not with the rows stored. Months are
calendar months in UTC.

Approval cycle time
    Days from ``approval_request.requested_at`` to ``closed_at`` of each request
    that reached a final decision (approved or rejected; withdrawn and superseded
    requests had none), in the month of the decision. Median and mean per month;
    the median comes from window functions (row number and count per month), which
    SQLite and PostgreSQL both have.
Compliance rate
    Of the model versions assessed in a month, the share whose last assessment in
    that month passed every standard (data, performance and fairness). Each
    version counts once per month, so re-running an assessment does not inflate
    or dilute the rate, and every assessed version counts, not only those that
    reached an approval request: a version that fails the standards is exactly
    what the rate should show. See `COMPLIANCE_RATE_DEFINITION`.
Incident frequency
    Incidents reported per month, by kind (``incident.kind``).
Model performance stability
    Per model and month, over the production monitoring windows that month
    (``monitoring_window.window_start``) whose AUC was measured: the number of
    windows, the lowest, highest and mean AUC, the spread (highest minus lowest)
    and the relative spread (spread over mean, the measure the stability risk uses
    in `governance.assessment.stability`). The same over the whole period, per
    model, says how far the AUC moved across months; with monthly windows the
    spread within one month is zero and the period's spread is the one to read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Engine, and_, case, extract, func, literal, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from governance.errors import InvalidInputError
from governance.operations_tables import MonitoringWindow
from governance.store import read_session
from governance.tables import Assessment, Incident, ModelVersion
from governance.workflow_tables import ApprovalRequest

logger = logging.getLogger(__name__)

FINAL_DECISIONS = ("approved", "rejected")
COMPLIANCE_RATE_DEFINITION = (
    "Compliance rate: of the model versions assessed in a month, the share whose "
    "last assessment that month passed every standard (data, performance, "
    "fairness). Each version counts once per month."
)


@dataclass(frozen=True)
class CycleTimeMonth:
    """Approval requests decided in one month and how long they took."""

    month: str
    decisions: int
    median_days: float
    mean_days: float


@dataclass(frozen=True)
class ComplianceMonth:
    """Versions assessed in one month and how many passed every standard."""

    month: str
    versions_assessed: int
    versions_passing: int

    @property
    def rate(self) -> float:
        """The share passing, between 0 and 1."""
        return self.versions_passing / self.versions_assessed


@dataclass(frozen=True)
class IncidentMonth:
    """Incidents of one kind reported in one month."""

    month: str
    kind: str
    incidents: int


@dataclass(frozen=True)
class AucRange:
    """One model's measured production windows: how many, and their AUC range."""

    model_name: str
    windows: int
    auc_min: float
    auc_max: float
    auc_mean: float

    @property
    def auc_spread(self) -> float:
        """Highest minus lowest window AUC."""
        return self.auc_max - self.auc_min

    @property
    def relative_spread(self) -> float:
        """The spread over the mean AUC."""
        return self.auc_spread / self.auc_mean


@dataclass(frozen=True)
class StabilityMonth(AucRange):
    """One model's measured production windows in one month."""

    month: str


@dataclass(frozen=True)
class GovernanceKpis:
    """The four series over ``months`` (``'YYYY-MM'``, oldest first).

    Each series lists only the months with data; `months` is the full range for
    a chart's axis.
    """

    months: tuple[str, ...]
    cycle_time: tuple[CycleTimeMonth, ...]
    compliance: tuple[ComplianceMonth, ...]
    incidents: tuple[IncidentMonth, ...]
    stability: tuple[StabilityMonth, ...]
    stability_overall: tuple[AucRange, ...] = ()

    def incident_counts(self) -> dict[str, list[int]]:
        """Incidents per kind, one count per month of `months` (zero when none)."""
        counts = {kind: [0] * len(self.months) for kind in self.incident_kinds}
        position = {month: i for i, month in enumerate(self.months)}
        for row in self.incidents:
            counts[row.kind][position[row.month]] = row.incidents
        return counts

    @property
    def incident_kinds(self) -> list[str]:
        """The kinds of incident reported in the range, sorted."""
        return sorted({row.kind for row in self.incidents})


def month_range(start: date, end: date) -> tuple[str, ...]:
    """Every month from ``start``'s to ``end``'s, as ``'YYYY-MM'``."""
    if end < start:
        raise InvalidInputError(
            f"The period ends ({end}) before it starts ({start}); swap the dates."
        )
    first, last = start.year * 12 + start.month - 1, end.year * 12 + end.month - 1
    return tuple(f"{m // 12:04d}-{m % 12 + 1:02d}" for m in range(first, last + 1))


def period_start(end: date, months: int) -> date:
    """The first day of the period of ``months`` calendar months ending with ``end``'s."""
    if months < 1:
        raise InvalidInputError(f"A period holds at least one month, not {months}.")
    first = end.year * 12 + end.month - 1 - (months - 1)
    return date(first // 12, first % 12 + 1, 1)


def month_bucket(moment: Any, dialect: str) -> ColumnElement[str]:
    """SQL for the ``'YYYY-MM'`` of a UTC timestamp column on ``dialect``.

    SQLite stores the console's timestamps as UTC text, which ``strftime`` reads;
    PostgreSQL stores ``timestamptz``, which is shifted to UTC first so the
    session's time zone cannot move an event into another month.
    """
    if dialect == "sqlite":
        return func.strftime("%Y-%m", moment)
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", moment), "YYYY-MM")
    raise NotImplementedError(f"Month buckets are not written for {dialect} yet.")


def days_between(start: Any, end: Any, dialect: str) -> ColumnElement[Any]:
    """SQL for the days (with fractions) from ``start`` to ``end`` on ``dialect``."""
    if dialect == "sqlite":
        return func.julianday(end) - func.julianday(start)
    if dialect == "postgresql":
        return extract("epoch", end - start) / literal(86400.0)
    raise NotImplementedError(f"Day differences are not written for {dialect} yet.")


def governance_kpis(engine: Engine, *, start: date, end: date) -> GovernanceKpis:
    """The four improvement metrics for the months from ``start`` to ``end``.

    Raises
    ------
    InvalidInputError
        When ``end`` is before ``start``.
    """
    months = month_range(start, end)
    dialect = engine.dialect.name
    with read_session(engine) as session:
        kpis = GovernanceKpis(
            months=months,
            cycle_time=approval_cycle_time(session, dialect, months),
            compliance=compliance_rate(session, dialect, months),
            incidents=incident_frequency(session, dialect, months),
            stability=performance_stability(session, dialect, months),
            stability_overall=performance_range(session, dialect, months),
        )
    logger.debug("Governance KPIs for %s to %s", months[0], months[-1])
    return kpis


def approval_cycle_time(
    session: Session, dialect: str, months: tuple[str, ...]
) -> tuple[CycleTimeMonth, ...]:
    """Median and mean days from request to final decision, per decision month."""
    month = month_bucket(col(ApprovalRequest.closed_at), dialect)
    days = days_between(
        col(ApprovalRequest.requested_at), col(ApprovalRequest.closed_at), dialect
    )
    ranked = (
        select(
            month.label("month"),
            days.label("days"),
            func.row_number().over(partition_by=month, order_by=days).label("rank"),
            func.count().over(partition_by=month).label("size"),
        )
        .where(
            col(ApprovalRequest.status).in_(FINAL_DECISIONS),
            col(ApprovalRequest.closed_at).is_not(None),
        )
        .subquery()
    )
    # The middle row, or the two middle rows, of each month's sorted days.
    is_middle = and_(
        ranked.c.rank >= (ranked.c.size + 1) // 2,
        ranked.c.rank <= (ranked.c.size + 2) // 2,
    )
    rows = session.execute(
        select(
            ranked.c.month,
            func.count(),
            func.avg(case((is_middle, ranked.c.days))),
            func.avg(ranked.c.days),
        )
        .where(ranked.c.month.in_(months))
        .group_by(ranked.c.month)
        .order_by(ranked.c.month)
    ).all()
    return tuple(
        CycleTimeMonth(month, int(n), float(median), float(mean))
        for month, n, median, mean in rows
    )


def compliance_rate(
    session: Session, dialect: str, months: tuple[str, ...]
) -> tuple[ComplianceMonth, ...]:
    """Versions assessed per month, and those whose last assessment passed."""
    month = month_bucket(col(Assessment.created_at), dialect)
    last = (
        select(func.max(Assessment.id).label("id"), month.label("month"))
        .group_by(col(Assessment.model_version_id), month)
        .subquery()
    )
    passing = func.sum(case((col(Assessment.passed), 1), else_=0))
    rows = session.execute(
        select(last.c.month, func.count(), passing)
        .join(Assessment, col(Assessment.id) == last.c.id)
        .where(last.c.month.in_(months))
        .group_by(last.c.month)
        .order_by(last.c.month)
    ).all()
    return tuple(ComplianceMonth(m, int(n), int(ok)) for m, n, ok in rows)


def incident_frequency(
    session: Session, dialect: str, months: tuple[str, ...]
) -> tuple[IncidentMonth, ...]:
    """Incidents reported per month and kind."""
    month = month_bucket(col(Incident.reported_at), dialect).label("month")
    rows = session.execute(
        select(month, col(Incident.kind), func.count())
        .where(month.in_(months))
        .group_by(month, col(Incident.kind))
        .order_by(month, col(Incident.kind))
    ).all()
    return tuple(IncidentMonth(m, kind, int(n)) for m, kind, n in rows)


def performance_stability(
    session: Session, dialect: str, months: tuple[str, ...]
) -> tuple[StabilityMonth, ...]:
    """Window AUC range per model and month, over measured production windows."""
    month = month_bucket(col(MonitoringWindow.window_start), dialect).label("month")
    rows = session.execute(
        _auc_ranges(month, months, month).order_by(month, col(ModelVersion.model_name))
    ).all()
    return tuple(
        StabilityMonth(name, int(n), float(low), float(high), float(mean), m)
        for m, name, n, low, high, mean in rows
    )


def performance_range(
    session: Session, dialect: str, months: tuple[str, ...]
) -> tuple[AucRange, ...]:
    """Window AUC range per model over all of ``months``."""
    month = month_bucket(col(MonitoringWindow.window_start), dialect)
    rows = session.execute(
        _auc_ranges(month, months).order_by(col(ModelVersion.model_name))
    ).all()
    return tuple(
        AucRange(name, int(n), float(low), float(high), float(mean))
        for name, n, low, high, mean in rows
    )


def _auc_ranges(
    month: ColumnElement[str], months: tuple[str, ...], *by: ColumnElement[str]
) -> Any:
    auc = col(MonitoringWindow.auc)
    return (
        select(
            *by,
            col(ModelVersion.model_name),
            func.count(),
            func.min(auc),
            func.max(auc),
            func.avg(auc),
        )
        .join(
            ModelVersion, col(ModelVersion.id) == col(MonitoringWindow.model_version_id)
        )
        .where(auc.is_not(None), month.in_(months))
        .group_by(*by, col(ModelVersion.model_name))
    )
