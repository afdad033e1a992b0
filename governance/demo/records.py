"""The demo's training records, compliance reports and a signed audit checkpoint."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Engine, update
from sqlmodel import col, select

from governance.access import SYSTEM_USER_ID, stable_user_id
from governance.audit import unit_of_work
from governance.errors import ConflictError
from governance.policy import Policy
from governance.records.training import overdue_training, record_completion
from governance.settings import Settings
from governance.store import read_session
from governance.tables import RoleAssignment
from governance.training_tables import TrainingCompletion

logger = logging.getLogger(__name__)

# Days before the build each person received their first role. Chen joined
# recently; everyone else has been on the team for about two years.
JOINED_DAYS_AGO = {
    "layla": 730,
    "omar": 700,
    "priya": 690,
    "daniel": 720,
    "sofia": 710,
    "chen": 45,
    "admin": 740,
}
# Days before the build each person completed each course (by position in the
# policy's list), oldest first; who recorded it follows in RECORDED_BY.
COMPLETED_DAYS_AGO: dict[str, tuple[tuple[int, ...], ...]] = {
    "layla": ((700, 340),) * 4,
    "omar": ((680, 300),) * 4,
    "priya": ((670, 250),) * 4,
    "daniel": ((700, 120),) * 4,
    # Renewed two courses; the other two ran past their annual refresher.
    "sofia": ((690, 20), (690, 20), (690, 400), (690, 400)),
    # A new member who has completed two of the four courses so far.
    "chen": ((20,), (20,), (), ()),
    "admin": ((720, 200),) * 4,
}
# Most people declare their own completions; the administrator recorded Daniel's
# and Chen's.
RECORDED_BY = {"daniel": "admin", "chen": "admin"}
# The compliance officer generates the periodic reports (framework, "Compliance
# Reporting"); the demo keeps one of each kind.
REPORTER = "daniel"
REPORTED = ("monthly_compliance", "quarterly_risk")


def seed_records(settings: Settings, engine: Engine, policy: Policy) -> str:
    """Seed this part of the demo; return one sentence saying what was added."""
    training = seed_training(engine, policy)
    audit = seed_audit_records(settings, engine, policy)
    return " ".join(part for part in (training, audit) if part)


def seed_audit_records(
    settings: Settings, engine: Engine, policy: Policy, *, now: datetime | None = None
) -> str:
    """Keep this month's compliance report and last quarter's risk assessment.

    Both are generated as the compliance officer through `generate_report`, as
    the Reports page would (the current month has begun, so it is accepted; its
    report says the period is still open). Then the audit chain's head is signed
    into a checkpoint, so the audit page verifies the trail against one at once.
    Runs last in the demo's records, after everything it reports on.
    """
    from governance.records.checkpoints import write_checkpoint
    from governance.records.reports import generate_report
    from governance.records.stored import list_reports

    now = now or datetime.now(UTC)
    if list_reports(engine, kinds=REPORTED, limit=1):
        return ""
    officer = stable_user_id(REPORTER)
    labels = []
    for kind, period in (
        ("monthly_compliance", None),
        ("quarterly_risk", _last_quarter(now.date())),
    ):
        report = generate_report(
            settings,
            engine,
            policy,
            actor_id=officer,
            kind=kind,
            period=period,
            now=now,
        )
        labels.append(report.title)
    try:
        checkpoint = write_checkpoint(settings, engine)
    except ConflictError as exc:
        # A checkpoint of an earlier store (a demo built before --reset) holds
        # this sequence number; it is evidence, and is left for a person to judge.
        logger.warning("Demo audit checkpoint not written: %s", exc)
        signed = f"no audit checkpoint written ({exc})"
    else:
        signed = f"audit checkpoint signed at event #{checkpoint.seq}"
    logger.info("Demo reports kept: %s; %s", labels, signed)
    return f"Reports: {'; '.join(labels)} kept; {signed}."


def _last_quarter(today: date) -> str:
    """The quarter before the one holding ``today``, named by its last month."""
    first_month = 3 * ((today.month - 1) // 3) + 1
    previous = date(today.year, first_month, 1) - timedelta(days=1)
    return f"{previous.year:04d}-{previous.month:02d}"


def seed_training(engine: Engine, policy: Policy, today: date | None = None) -> str:
    """Give the demo team a training history: most current, two people overdue.

    The demo's people are created on the day the demo is built; their role grants
    are dated back (an audited ``demo.team_history_dated`` event) so that due
    dates have a history to run from. Completions are recorded through
    `record_completion`, as the person or the administrator.
    """
    today = today or datetime.now(UTC).date()
    with read_session(engine) as session:
        if session.exec(select(TrainingCompletion.id).limit(1)).first() is not None:
            return ""

    _date_the_team(engine, today)
    recorded = 0
    for username, per_course in COMPLETED_DAYS_AGO.items():
        user_id = stable_user_id(username)
        actor_id = stable_user_id(RECORDED_BY.get(username, username))
        for course, days_ago in zip(policy.training.courses, per_course, strict=True):
            for days in days_ago:
                record_completion(
                    engine,
                    policy,
                    actor_id=actor_id,
                    user_id=user_id,
                    course=course,
                    completed_on=today - timedelta(days=days),
                    today=today,
                )
                recorded += 1

    late = overdue_training(engine, policy, today)
    people = sorted({status.display_name for status in late})
    logger.info("Seeded %d training completions; overdue: %s", recorded, people)
    return (
        f"Training: {recorded} completions recorded, {len(late)} courses overdue "
        f"({', '.join(people)})."
    )


def _date_the_team(engine: Engine, today: date) -> None:
    with unit_of_work(engine) as work:
        for username, days in JOINED_DAYS_AGO.items():
            joined = datetime.combine(today - timedelta(days=days), time(9), UTC)
            work.session.execute(
                update(RoleAssignment)
                .where(col(RoleAssignment.user_id) == stable_user_id(username))
                .values(granted_at=joined)
            )
        work.record(
            actor_id=SYSTEM_USER_ID,
            action="demo.team_history_dated",
            entity_type="demo",
            entity_id="training",
            payload={
                "joined_days_before_build": JOINED_DAYS_AGO,
                "build_day": today.isoformat(),
            },
        )
