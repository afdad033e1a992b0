"""The framework's required training: completion records and due dates.

Who must train
    Every active person who holds at least one role is a team member, from the day
    (UTC) their earliest current role was granted (``role_assignment.granted_at``).

Who records a completion
    The person themselves (self-declared), or an administrator for anyone. The
    record says which: ``recorded_by`` is the person or the administrator. Every
    record is audited as ``training.completed``. These rules live here rather than
    in the workflow's permission table, which holds no administrator permission.

Who sees everyone's standing
    Administrators (who keep the records) and compliance officers (who report on
    them); everyone else sees their own.

When a course is due
    For one person and one course, the due date is the earliest obligation not yet
    met:

    - new member: ``member_since + training.new_member_days``, met by any
      completion of the course;
    - annual refresher: ``last completion + training.refresher_days``;
    - policy change (when ``training.on_policy_change``): every installation of a
      policy after the store's first one asks everyone to complete the course
      again within ``training.new_member_days`` of the change (or of joining, for
      someone who joined later). A completion counts for a policy version when it
      was made on or after the day (UTC) that version was installed; so the
      earliest installation dated after the last completion sets this deadline.

    A course is overdue the day after its due date.

The aggregates (each member's start, each member's last completion per course,
the installations) come from SQL; the date arithmetic is done per person and
course, because day arithmetic differs between SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from governance.access import require_role
from governance.audit import unit_of_work
from governance.errors import ConflictError, InvalidInputError, NotFoundError
from governance.policy import Policy, Training
from governance.store import read_session
from governance.tables import InstalledPolicy, RoleAssignment, User
from governance.training_tables import TrainingCompletion

logger = logging.getLogger(__name__)

COURSE_TITLES = {
    "ml_governance_framework": "ML governance framework",
    "risk_assessment_procedures": "Risk assessment procedures",
    "compliance_requirements": "Compliance requirements",
    "incident_response_procedures": "Incident response procedures",
}
# Who sees everyone's training status: the administrator keeps the records and
# the compliance officer reports on them ("Compliance Reporting").
OVERSEER_ROLES = ("admin", "compliance_officer")
STATUS_ORDER = {"overdue": 0, "due": 1, "current": 2}


def course_title(course: str) -> str:
    """A course's title as a person reads it."""
    return COURSE_TITLES.get(course, course.replace("_", " ").capitalize())


@dataclass(frozen=True)
class PolicyChange:
    """An installation of a policy version after the store's first one."""

    version: str
    installed_on: date


@dataclass(frozen=True)
class Obligation:
    """When a course is next due for one person, and why."""

    due_on: date
    reason: str
    needs_completion: bool


@dataclass(frozen=True)
class CourseStatus:
    """One team member's standing on one required course on ``today``."""

    user_id: str
    username: str
    display_name: str
    course: str
    member_since: date
    last_completed_on: date | None
    due_on: date
    reason: str
    needs_completion: bool
    today: date

    @property
    def course_title(self) -> str:
        """The course's title."""
        return course_title(self.course)

    @property
    def is_overdue(self) -> bool:
        """Whether the due date has passed."""
        return self.today > self.due_on

    @property
    def days_overdue(self) -> int:
        """Days past the due date (0 when not overdue)."""
        return max((self.today - self.due_on).days, 0)

    @property
    def status(self) -> str:
        """``overdue``, ``due`` (a completion is needed, not late yet) or ``current``."""
        if self.is_overdue:
            return "overdue"
        return "due" if self.needs_completion else "current"


@dataclass(frozen=True)
class CourseCompliance:
    """How many team members are current, due and overdue on one course."""

    course: str
    title: str
    members: int
    current: int
    due: int
    overdue: int


@dataclass(frozen=True)
class TrainingCompliance:
    """Training compliance of the team on one day, per course and overall."""

    on: date
    members: int
    members_overdue: int
    overdue_total: int
    courses: tuple[CourseCompliance, ...]

    @property
    def members_compliant(self) -> int:
        """Team members with no overdue course."""
        return self.members - self.members_overdue


def next_obligation(
    rules: Training,
    *,
    member_since: date,
    last_completed_on: date | None,
    changes: Sequence[PolicyChange],
) -> Obligation:
    """The earliest unmet training obligation of one person on one course.

    Parameters
    ----------
    rules
        The policy's training section.
    member_since
        The day the person received their first role.
    last_completed_on
        Their latest completion of the course, or None.
    changes
        Policy installations after the store's first one, oldest first.
    """
    new_member = timedelta(days=rules.new_member_days)
    if last_completed_on is None:
        return Obligation(member_since + new_member, "new team member", True)

    refresher = Obligation(
        last_completed_on + timedelta(days=rules.refresher_days),
        "annual refresher",
        False,
    )
    unmet = [c for c in changes if c.installed_on > last_completed_on]
    if not rules.on_policy_change or not unmet:
        return refresher
    change = min(unmet, key=lambda c: c.installed_on)
    by_change = max(change.installed_on, member_since) + new_member
    if by_change < refresher.due_on:
        return Obligation(by_change, f"policy {change.version} installed", True)
    return refresher


def policy_changes(session: Session, today: date) -> list[PolicyChange]:
    """Installations after the store's first one, up to ``today``, oldest first."""
    rows = session.exec(
        select(InstalledPolicy.version, InstalledPolicy.installed_at)
        .where(col(InstalledPolicy.installed_at) < _end_of(today))
        .order_by(col(InstalledPolicy.id))
    ).all()
    return [PolicyChange(version, _utc_day(moment)) for version, moment in rows[1:]]


def training_status(
    engine: Engine, policy: Policy, today: date, *, user_id: str | None = None
) -> list[CourseStatus]:
    """Every team member's standing on every required course, overdue first.

    Parameters
    ----------
    today
        The day to judge on; records dated after it are ignored.
    user_id
        Only this person (their own view); everyone by default.
    """
    with read_session(engine) as session:
        members = _members(session, today, user_id)
        latest = _latest_completions(session, policy, today)
        changes = policy_changes(session, today)

    statuses = [
        _status(policy, member, course, latest.get((member[0], course)), changes, today)
        for member in members
        for course in policy.training.courses
    ]
    return sorted(
        statuses,
        key=lambda s: (STATUS_ORDER[s.status], s.due_on, s.display_name, s.course),
    )


def overdue_training(
    engine: Engine, policy: Policy, today: date, *, user_id: str | None = None
) -> list[CourseStatus]:
    """The overdue courses on ``today`` (of one person, or everyone), latest due last."""
    return [
        status
        for status in training_status(engine, policy, today, user_id=user_id)
        if status.is_overdue
    ]


def team_training_status(
    engine: Engine, policy: Policy, today: date, *, viewer_id: str
) -> list[CourseStatus]:
    """Everyone's standing, for an administrator or compliance officer.

    Raises
    ------
    PermissionDeniedError
        When ``viewer_id`` holds neither role.
    """
    with read_session(engine) as session:
        require_role(session, viewer_id, *OVERSEER_ROLES)
    return training_status(engine, policy, today)


def training_compliance(engine: Engine, policy: Policy, on: date) -> TrainingCompliance:
    """Counts of current, due and overdue team members per course on ``on``.

    Membership is read as it stands now (a revoked role leaves no row), with
    roles granted after ``on`` left out; completions and policy installations
    after ``on`` are left out too.
    """
    statuses = training_status(engine, policy, on)
    courses = tuple(
        _course_counts(course, [s for s in statuses if s.course == course])
        for course in policy.training.courses
    )
    overdue_people = {s.user_id for s in statuses if s.is_overdue}
    return TrainingCompliance(
        on=on,
        members=len({s.user_id for s in statuses}),
        members_overdue=len(overdue_people),
        overdue_total=sum(c.overdue for c in courses),
        courses=courses,
    )


def record_completion(
    engine: Engine,
    policy: Policy,
    *,
    actor_id: str,
    user_id: str,
    course: str,
    completed_on: date | None = None,
    today: date | None = None,
) -> int:
    """Record that ``user_id`` completed ``course`` on ``completed_on``.

    A person declares their own completions; an administrator records anyone's.

    Returns
    -------
    int
        The id of the new completion record.

    Raises
    ------
    InvalidInputError
        An unknown course, or a completion date after today.
    PermissionDeniedError
        Someone other than the person, who is not an administrator.
    NotFoundError
        No such person, or a deactivated one.
    ConflictError
        The same completion (person, course and day) is already recorded.
    """
    today = today or datetime.now(UTC).date()
    completed_on = completed_on or today
    _check_course(policy, course)
    if completed_on > today:
        raise InvalidInputError(
            f"The completion date {completed_on} is after today ({today}); "
            "record a course once it has been completed."
        )

    with unit_of_work(engine) as work:
        session = work.session
        if actor_id != user_id:
            require_role(session, actor_id, "admin")
        person = session.get(User, user_id)
        if person is None or not person.is_active:
            raise NotFoundError(
                f"No active person with id {user_id}; pick one from People and roles."
            )
        _refuse_duplicate(session, user_id, course, completed_on)
        record = TrainingCompletion(
            user_id=user_id,
            course=course,
            completed_on=completed_on,
            policy_version=_version_on(session, completed_on),
            recorded_by=actor_id,
        )
        session.add(record)
        session.flush()
        assert record.id is not None
        work.record(
            actor_id=actor_id,
            action="training.completed",
            entity_type="training_completion",
            entity_id=str(record.id),
            payload={
                "user_id": user_id,
                "course": course,
                "completed_on": completed_on.isoformat(),
                "policy_version": record.policy_version,
                "self_declared": actor_id == user_id,
            },
        )
        logger.info("Training %s completed by %s on %s", course, user_id, completed_on)
        return record.id


def completions_of(engine: Engine, user_id: str) -> list[TrainingCompletion]:
    """A person's completion records, newest first."""
    with read_session(engine) as session:
        return list(
            session.exec(
                select(TrainingCompletion)
                .where(TrainingCompletion.user_id == user_id)
                .order_by(
                    col(TrainingCompletion.completed_on).desc(),
                    col(TrainingCompletion.id).desc(),
                )
            ).all()
        )


def _members(
    session: Session, today: date, user_id: str | None
) -> list[tuple[str, str, str, date]]:
    since = func.min(RoleAssignment.granted_at).label("since")
    query = (
        select(User.id, User.username, User.display_name, since)
        .join(RoleAssignment, col(RoleAssignment.user_id) == col(User.id))
        .where(col(User.is_active), col(RoleAssignment.granted_at) < _end_of(today))
        .group_by(col(User.id), col(User.username), col(User.display_name))
    )
    if user_id is not None:
        query = query.where(User.id == user_id)
    return [
        (uid, username, display or username, _utc_day(first))
        for uid, username, display, first in session.exec(query).all()
    ]


def _latest_completions(
    session: Session, policy: Policy, today: date
) -> dict[tuple[str, str], date]:
    last = func.max(TrainingCompletion.completed_on)
    rows = session.exec(
        select(TrainingCompletion.user_id, TrainingCompletion.course, last)
        .where(
            col(TrainingCompletion.completed_on) <= today,
            col(TrainingCompletion.course).in_(policy.training.courses),
        )
        .group_by(col(TrainingCompletion.user_id), col(TrainingCompletion.course))
    ).all()
    return {(uid, course): day for uid, course, day in rows}


def _status(
    policy: Policy,
    member: tuple[str, str, str, date],
    course: str,
    last: date | None,
    changes: Sequence[PolicyChange],
    today: date,
) -> CourseStatus:
    user_id, username, display_name, since = member
    obligation = next_obligation(
        policy.training,
        member_since=since,
        last_completed_on=last,
        changes=changes,
    )
    return CourseStatus(
        user_id=user_id,
        username=username,
        display_name=display_name,
        course=course,
        member_since=since,
        last_completed_on=last,
        due_on=obligation.due_on,
        reason=obligation.reason,
        needs_completion=obligation.needs_completion,
        today=today,
    )


def _course_counts(course: str, statuses: list[CourseStatus]) -> CourseCompliance:
    counts = {name: 0 for name in STATUS_ORDER}
    for status in statuses:
        counts[status.status] += 1
    return CourseCompliance(
        course=course,
        title=course_title(course),
        members=len(statuses),
        current=counts["current"],
        due=counts["due"],
        overdue=counts["overdue"],
    )


def _check_course(policy: Policy, course: str) -> None:
    if course not in policy.training.courses:
        raise InvalidInputError(
            f"Unknown course {course!r}; the policy requires "
            f"{', '.join(policy.training.courses)}."
        )


def _refuse_duplicate(session: Session, user_id: str, course: str, day: date) -> None:
    found = session.exec(
        select(TrainingCompletion.id).where(
            TrainingCompletion.user_id == user_id,
            TrainingCompletion.course == course,
            TrainingCompletion.completed_on == day,
        )
    ).first()
    if found is not None:
        raise ConflictError(
            f"{course_title(course)} on {day} is already recorded for this person "
            f"(record {found}); nothing to add."
        )


def _version_on(session: Session, day: date) -> str | None:
    return session.exec(
        select(InstalledPolicy.version)
        .where(col(InstalledPolicy.installed_at) < _end_of(day))
        .order_by(col(InstalledPolicy.id).desc())
        .limit(1)
    ).first()


def _end_of(day: date) -> datetime:
    """The first instant after ``day`` in UTC."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


def _utc_day(moment: datetime) -> date:
    if moment.utcoffset() is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).date()
