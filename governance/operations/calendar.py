"""The review calendar (framework, "Review Schedule").

The policy's cadences (``policy.reviews``) become review tasks, computed on demand
from the calendar and the completions stored so far; nothing is scheduled. The
performance, drift and model reviews are due per model with a version in
production, from the day the model first went into production; the governance
review is due once for the whole console (scope ``console``).

Due dates, all calendar days in UTC:

- daily: the review of day D is due at the end of D;
- weekly: the review of an ISO week (Monday to Sunday) is due by its Sunday, also
  when the week spans two months or two years;
- monthly: by the month's last day;
- quarterly: by the quarter's last day (31 March, 30 June, 30 September,
  31 December);
- annually: by 31 December.

An occurrence is overdue once its due date has passed without a completion. Missed
occurrences of one review are folded into one task, the latest, with the count
missed, so a daily review left for a month is one line and not thirty.
"""

from __future__ import annotations

import calendar as gregorian
import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from governance.access import ROLE_TITLES
from governance.audit import unit_of_work
from governance.errors import ConflictError, InvalidInputError, NotFoundError
from governance.incident_tables import ReviewCompletion
from governance.operations.incidents import require_role_for
from governance.policy import Policy
from governance.store import read_session
from governance.tables import AuditEvent, GovernedModel, ModelVersion, User, utc_now
from governance.workflow._state import as_utc
from governance.workflow_tables import RolloutStep, WorkflowState

logger = logging.getLogger(__name__)

CONSOLE_SCOPE = "console"
MODEL_REVIEWS = ("performance", "drift", "model")
REVIEW_TITLES = {
    "performance": "Performance metrics review",
    "drift": "Drift detection review",
    "model": "Comprehensive model review",
    "governance": "Full governance review",
}
_PATTERNS = {
    "daily": re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"),
    "weekly": re.compile(r"^(\d{4})-W(\d{2})$"),
    "monthly": re.compile(r"^(\d{4})-(\d{2})$"),
    "quarterly": re.compile(r"^(\d{4})-Q([1-4])$"),
    "annually": re.compile(r"^(\d{4})$"),
}


@dataclass(frozen=True)
class Period:
    """One occurrence of a cadence: its label, first day and due date."""

    label: str
    start: date
    due_on: date


def period_of(cadence: str, day: date) -> Period:
    """The occurrence of ``cadence`` that ``day`` falls in."""
    if cadence == "daily":
        return Period(day.isoformat(), day, day)
    if cadence == "weekly":
        iso = day.isocalendar()
        start = day - timedelta(days=iso.weekday - 1)
        return Period(f"{iso.year}-W{iso.week:02d}", start, start + timedelta(days=6))
    if cadence == "monthly":
        return Period(
            f"{day:%Y-%m}", day.replace(day=1), _month_end(day.year, day.month)
        )
    if cadence == "quarterly":
        quarter = (day.month - 1) // 3 + 1
        start = date(day.year, 3 * quarter - 2, 1)
        return Period(
            f"{day.year}-Q{quarter}", start, _month_end(day.year, 3 * quarter)
        )
    if cadence == "annually":
        return Period(str(day.year), date(day.year, 1, 1), date(day.year, 12, 31))
    raise InvalidInputError(
        f"Unknown cadence {cadence!r}; use daily, weekly, monthly, quarterly or "
        "annually."
    )


def due_date(cadence: str, day: date) -> date:
    """The due date of the occurrence of ``cadence`` that ``day`` falls in."""
    return period_of(cadence, day).due_on


def parse_period(cadence: str, label: str) -> Period:
    """The occurrence named ``label`` (e.g. ``2026-W49``), or an InvalidInputError."""
    match = _PATTERNS.get(cadence, re.compile("$^")).match(label.strip())
    try:
        if match is None:
            raise ValueError(label)
        numbers = [int(part) for part in match.groups()]
        if cadence == "weekly":
            day = date.fromisocalendar(numbers[0], numbers[1], 1)
        elif cadence == "quarterly":
            day = date(numbers[0], 3 * numbers[1] - 2, 1)
        else:
            day = date(*(numbers + [1, 1])[:3])
    except ValueError as exc:
        examples = {
            "daily": "2026-12-03",
            "weekly": "2026-W49",
            "monthly": "2026-12",
            "quarterly": "2026-Q4",
            "annually": "2026",
        }
        raise InvalidInputError(
            f"{label!r} does not name a {cadence} period; write it like "
            f"{examples.get(cadence, '2026-12')}."
        ) from exc
    return period_of(cadence, day)


def _month_end(year: int, month: int) -> date:
    return date(year, month, gregorian.monthrange(year, month)[1])


@dataclass(frozen=True)
class ReviewTask:
    """One review occurrence that is overdue, due now, or next."""

    review: str
    scope: str
    cadence: str
    role: str
    period: Period
    status: str  # "overdue", "due", "done" or "next"
    missed: int = 0

    @property
    def title(self) -> str:
        """The review as people read it."""
        return REVIEW_TITLES[self.review]

    @property
    def role_title(self) -> str:
        """The assigned role as people read it."""
        return ROLE_TITLES[self.role]

    @property
    def is_overdue(self) -> bool:
        """Whether the occurrence's due date passed without a completion."""
        return self.status == "overdue"

    @property
    def overdue_since(self) -> datetime:
        """The moment the occurrence became overdue: the start of the next day."""
        return datetime.combine(self.period.due_on + timedelta(days=1), time(), UTC)


@dataclass(frozen=True)
class CompletionView:
    """A completed review, as the page lists it."""

    review: str
    scope: str
    period: str
    due_on: date
    completed_by: str
    completed_at: datetime
    notes: str
    findings: str

    @property
    def was_late(self) -> bool:
        """Whether the review was completed after its due date."""
        return self.completed_at.date() > self.due_on

    @property
    def title(self) -> str:
        """The review's name as a person reads it."""
        return REVIEW_TITLES[self.review]


def review_tasks(engine: Engine, policy: Policy, *, today: date) -> list[ReviewTask]:
    """Every review's overdue, current and next occurrence; overdue first."""
    with read_session(engine) as session:
        starts = _schedule_starts(session)
        done = _completed(session)
    tasks: list[ReviewTask] = []
    for review, scope, start in _scheduled(policy, starts):
        tasks.extend(_occurrences(policy, review, scope, start, today, done))
    order = {"overdue": 0, "due": 1, "next": 2, "done": 3}
    return sorted(
        tasks, key=lambda t: (order[t.status], t.period.due_on, t.review, t.scope)
    )


def overdue_reviews(
    engine: Engine, policy: Policy, *, today: date, roles: set[str] | None = None
) -> list[ReviewTask]:
    """The overdue review tasks, only those assigned to ``roles`` when given."""
    return [
        task
        for task in review_tasks(engine, policy, today=today)
        if task.is_overdue and (roles is None or task.role in roles)
    ]


def _scheduled(policy: Policy, starts: dict[str, date]) -> list[tuple[str, str, date]]:
    scheduled = [
        (review, model, start)
        for model, start in sorted(starts.items())
        if model != CONSOLE_SCOPE
        for review in MODEL_REVIEWS
    ]
    if CONSOLE_SCOPE in starts:
        scheduled.append(("governance", CONSOLE_SCOPE, starts[CONSOLE_SCOPE]))
    return scheduled


def _occurrences(
    policy: Policy,
    review: str,
    scope: str,
    start: date,
    today: date,
    done: set[tuple[str, str, str]],
) -> list[ReviewTask]:
    cadence = getattr(policy.reviews, review)
    role = policy.reviews.assigned_to[review]  # type: ignore[index]
    if start > today:
        return []

    missed: list[Period] = []
    period = period_of(cadence, start)
    while period.due_on < today:
        if (review, scope, period.label) not in done:
            missed.append(period)
        period = period_of(cadence, period.due_on + timedelta(days=1))
    upcoming = period_of(cadence, period.due_on + timedelta(days=1))

    def task(at: Period, status: str, count: int = 0) -> ReviewTask:
        return ReviewTask(review, scope, cadence, role, at, status, count)

    current = "done" if (review, scope, period.label) in done else "due"
    tasks = [task(period, current), task(upcoming, "next")]
    if missed:
        tasks.insert(0, task(missed[-1], "overdue", len(missed)))
    return tasks


def _schedule_starts(session: Session) -> dict[str, date]:
    """The first day each model in production was in production, and the console's."""
    in_production = session.exec(
        select(ModelVersion.model_name, ModelVersion.id)
        .join(GovernedModel, col(GovernedModel.name) == col(ModelVersion.model_name))
        .where(
            ModelVersion.stage == "production", col(GovernedModel.is_retired).is_(False)
        )
    ).all()
    starts: dict[str, date] = {}
    for model_name, version_id in in_production:
        first = session.exec(
            select(func.min(RolloutStep.performed_at)).where(
                RolloutStep.model_name == model_name,
                col(RolloutStep.step).in_(("production", "rollback")),
            )
        ).one()
        if first is None:
            state = session.get(WorkflowState, version_id)
            first = state.stage_entered_at if state else utc_now()
        starts[model_name] = as_utc(first).date()
    first_event = session.exec(select(func.min(AuditEvent.occurred_at))).one()
    console = [*starts.values()]
    if first_event is not None:
        console.append(as_utc(first_event).date())
    if console:
        starts[CONSOLE_SCOPE] = min(console)
    return starts


def _completed(session: Session) -> set[tuple[str, str, str]]:
    rows = session.exec(
        select(ReviewCompletion.review, ReviewCompletion.scope, ReviewCompletion.period)
    ).all()
    return {(review, scope, period) for review, scope, period in rows}


def complete_review(
    engine: Engine,
    policy: Policy,
    *,
    actor_id: str,
    review: str,
    scope: str,
    period: str,
    notes: str,
    findings: str = "",
    now: datetime | None = None,
) -> int:
    """Record a review occurrence as done, with notes and findings; returns its id.

    Raises
    ------
    InvalidInputError
        Unknown review, a scope that does not fit it, a malformed or future period,
        empty notes, or notes or findings past the policy's limit.
    PermissionDeniedError
        When the actor does not hold the review's assigned role.
    ConflictError
        When the occurrence was completed already.
    """
    moment = as_utc(now or utc_now())
    cadence, occurrence = _checked_occurrence(policy, review, scope, period, moment)
    text, found = _checked_notes(policy, notes, findings)
    with unit_of_work(engine) as work:
        require_role_for(
            work.session,
            actor_id,
            policy.reviews.assigned_to[review],  # type: ignore[index]
            action="review.complete",
            entity_type="review",
            entity_id=f"{review}/{scope}/{occurrence.label}",
        )
        _check_scope(work.session, review, scope)
        if work.session.exec(
            select(ReviewCompletion).where(
                ReviewCompletion.review == review,
                ReviewCompletion.scope == scope,
                ReviewCompletion.period == occurrence.label,
            )
        ).first():
            raise ConflictError(
                f"The {REVIEW_TITLES[review].lower()} of {scope} for "
                f"{occurrence.label} is already completed."
            )
        row = ReviewCompletion(
            review=review,
            scope=scope,
            period=occurrence.label,
            due_on=occurrence.due_on,
            completed_by=actor_id,
            completed_at=moment,
            notes=text,
            findings=found,
            policy_version=policy.version,
        )
        work.session.add(row)
        work.session.flush()
        work.record(
            actor_id=actor_id,
            action="review.completed",
            entity_type="review",
            entity_id=f"{review}/{scope}/{occurrence.label}",
            payload={
                "review": review,
                "cadence": cadence,
                "scope": scope,
                "period": occurrence.label,
                "due_on": occurrence.due_on.isoformat(),
                "is_late": moment.date() > occurrence.due_on,
                "notes": text,
                "findings": found,
                "policy_version": policy.version,
            },
        )
        row_id = row.id
    assert row_id is not None
    return row_id


def _checked_occurrence(
    policy: Policy, review: str, scope: str, period: str, moment: datetime
) -> tuple[str, Period]:
    if review not in REVIEW_TITLES:
        raise InvalidInputError(
            f"Unknown review {review!r}; use one of {', '.join(REVIEW_TITLES)}."
        )
    if (review == "governance") != (scope == CONSOLE_SCOPE):
        raise InvalidInputError(
            "The governance review covers the whole console (scope 'console'); the "
            "other reviews cover one model: name it."
        )
    cadence = getattr(policy.reviews, review)
    occurrence = parse_period(cadence, period)
    if occurrence.start > moment.date():
        raise InvalidInputError(
            f"The {occurrence.label} {REVIEW_TITLES[review].lower()} has not started "
            f"yet (it starts on {occurrence.start:%d %b %Y}); complete it then."
        )
    return cadence, occurrence


def _checked_notes(policy: Policy, notes: str, findings: str) -> tuple[str, str]:
    text, found = (notes or "").strip(), (findings or "").strip()
    if not text:
        raise InvalidInputError(
            "The review notes are empty; say what was reviewed and what it showed."
        )
    limit = policy.reviews.max_notes_chars
    for name, value in (("notes", text), ("findings", found)):
        if len(value) > limit:
            raise InvalidInputError(
                f"The review {name} have {len(value):,} characters; the limit is "
                f"{limit:,}. Summarise and link the full material."
            )
    return text, found


def _check_scope(session: Session, review: str, scope: str) -> None:
    if review != "governance" and session.get(GovernedModel, scope) is None:
        raise NotFoundError(
            f"No governed model named {scope!r}; pick one from the inventory."
        )


def recent_completions(engine: Engine, *, limit: int = 20) -> list[CompletionView]:
    """The newest completed reviews, newest first."""
    with read_session(engine) as session:
        rows = session.exec(
            select(ReviewCompletion, User)
            .join(User, col(User.id) == col(ReviewCompletion.completed_by))
            .order_by(col(ReviewCompletion.completed_at).desc())
            .limit(limit)
        ).all()
        return [
            CompletionView(
                review=row.review,
                scope=row.scope,
                period=row.period,
                due_on=row.due_on,
                completed_by=user.display_name or user.username,
                completed_at=as_utc(row.completed_at),
                notes=row.notes,
                findings=row.findings,
            )
            for row, user in rows
        ]
