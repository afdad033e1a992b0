"""Commands for training records.

``python -m governance training record --user U --course C [--on DATE] --as USER``
records a completion: a person records their own, an administrator anyone's.

``python -m governance training status [--overdue] [--user U] [--on DATE]`` lists
each team member's standing on each required course, overdue first; with
``--overdue`` it lists only overdue courses and exits 1 when there are any, so a
scheduled job can alert on it.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime
from typing import Any

from governance.errors import InvalidInputError

EXIT_OK, EXIT_CHECK_FAILED = 0, 1


def add_commands(commands: Any) -> None:
    """Add this area's commands to the ``python -m governance`` parser."""
    training = commands.add_parser("training", help="required training records")
    actions = training.add_subparsers(dest="training_command", required=True)

    record = actions.add_parser("record", help="record a completed course")
    record.add_argument("--user", required=True, help="username of who completed it")
    record.add_argument("--course", required=True, help="course key (see the policy)")
    record.add_argument("--on", help="day completed, YYYY-MM-DD (default: today, UTC)")
    record.add_argument(
        "--as", dest="as_user", help="acting username (default: GOVERNANCE_USER)"
    )
    record.set_defaults(run=_with_store(_record))

    status = actions.add_parser("status", help="who is current, due and overdue")
    status.add_argument(
        "--overdue", action="store_true", help="only overdue courses; exit 1 if any"
    )
    status.add_argument("--user", help="only this username")
    status.add_argument("--on", help="judge on this day, YYYY-MM-DD (default: today)")
    status.set_defaults(run=_with_store(_status))


def _day(value: str | None) -> date:
    if not value:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInputError(
            f"{value!r} is not a day; write it as YYYY-MM-DD, e.g. 2026-03-31."
        ) from exc


def _user_id(engine: Any, username: str) -> str:
    from sqlmodel import select

    from governance.errors import NotFoundError
    from governance.store import read_session
    from governance.tables import User

    with read_session(engine) as session:
        found = session.exec(select(User.id).where(User.username == username)).first()
    if found is None:
        raise NotFoundError(
            f"No user named {username!r}; list people with `python -m governance users`."
        )
    return found


def _with_store(command: Any) -> Any:
    """Run ``command(args, engine, policy)`` and close the store's connections."""

    def run(args: argparse.Namespace) -> int:
        from governance.bootstrap import prepare_store
        from governance.settings import load_settings

        engine, policy = prepare_store(load_settings())
        try:
            return int(command(args, engine, policy))
        finally:
            engine.dispose()

    return run


def _record(args: argparse.Namespace, engine: Any, policy: Any) -> int:
    from governance.cli import _actor
    from governance.records.training import course_title, record_completion

    actor = _actor(engine, args.as_user)
    day = _day(args.on)
    record_completion(
        engine,
        policy,
        actor_id=actor,
        user_id=_user_id(engine, args.user),
        course=args.course,
        completed_on=day,
    )
    sys.stdout.write(
        f"Recorded: {args.user} completed {course_title(args.course)} on {day}.\n"
    )
    return EXIT_OK


def _status(args: argparse.Namespace, engine: Any, policy: Any) -> int:
    from governance.records.training import training_status

    user_id = _user_id(engine, args.user) if args.user else None
    statuses = training_status(engine, policy, _day(args.on), user_id=user_id)
    if args.overdue:
        statuses = [s for s in statuses if s.is_overdue]
    for s in statuses:
        late = f", {s.days_overdue} days overdue" if s.is_overdue else ""
        sys.stdout.write(
            f"{s.status:<8} {s.username:<16} {s.course_title:<30} due {s.due_on} "
            f"({s.reason}{late}; last completed {s.last_completed_on or 'never'})\n"
        )
    if not statuses:
        sys.stdout.write("Nothing overdue.\n" if args.overdue else "No team members.\n")
    return EXIT_CHECK_FAILED if args.overdue and statuses else EXIT_OK
