"""Commands for incidents and the review calendar.

``incident report|list|show|step|rollback|close|reopen`` and ``review due|complete``.
Commands that change state act as ``--as USERNAME`` or ``GOVERNANCE_USER``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

EXIT_OK = 0


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")


@contextmanager
def _store() -> Iterator[Any]:
    """The engine and policy, disposed after the command (no connection left open)."""
    from governance.bootstrap import prepare_store
    from governance.settings import load_settings

    engine, policy = prepare_store(load_settings())
    try:
        yield engine, policy
    finally:
        engine.dispose()


def _actor(engine: Any, username: str | None) -> str:
    from governance.cli import _actor as actor_of

    return actor_of(engine, username)


def add_commands(commands: Any) -> None:
    """Add this area's commands to the ``python -m governance`` parser."""
    incident = commands.add_parser("incident", help="incidents and their playbooks")
    actions = incident.add_subparsers(dest="action", required=True)

    report = actions.add_parser("report", help="report an incident on a version")
    report.add_argument("--model", required=True)
    report.add_argument("--version", required=True, help="the affected version")
    report.add_argument(
        "--kind", required=True, choices=("performance", "bias", "security")
    )
    report.add_argument("--severity", required=True, help="e.g. low, high")
    report.add_argument("--description", required=True)
    report.add_argument(
        "--evidence",
        action="append",
        help="an http(s) URL or a console reference like audit:1234; repeatable",
    )
    report.add_argument("--as", dest="as_user", help="acting username")
    report.set_defaults(run=_cmd_report)

    listing = actions.add_parser("list", help="open incidents (all with --all)")
    listing.add_argument("--all", action="store_true", help="include closed ones")
    listing.set_defaults(run=_cmd_list)

    show = actions.add_parser("show", help="one incident: playbook and timeline")
    show.add_argument("id", type=int)
    show.set_defaults(run=_cmd_show)

    step = actions.add_parser("step", help="mark the playbook's next step done")
    step.add_argument("id", type=int)
    step.add_argument("step", help="the step's key, e.g. investigate_root_cause")
    step.add_argument("--note", required=True, help="what was done and found")
    step.add_argument("--as", dest="as_user", help="acting username")
    step.set_defaults(run=_cmd_step)

    rollback = actions.add_parser(
        "rollback", help="roll production back from the playbook's rollback step"
    )
    rollback.add_argument("id", type=int)
    rollback.add_argument("--reason", required=True)
    rollback.add_argument("--as", dest="as_user", help="acting username")
    rollback.set_defaults(run=_cmd_rollback)

    close = actions.add_parser("close", help="close an incident whose steps are done")
    close.add_argument("id", type=int)
    close.add_argument("--note", default="")
    close.add_argument("--as", dest="as_user", help="acting username")
    close.set_defaults(run=_cmd_close)

    reopen = actions.add_parser("reopen", help="reopen a closed incident")
    reopen.add_argument("id", type=int)
    reopen.add_argument("--reason", required=True)
    reopen.add_argument("--from-step", help="reopen from this step (default: last)")
    reopen.add_argument("--as", dest="as_user", help="acting username")
    reopen.set_defaults(run=_cmd_reopen)

    _add_review_commands(commands)


def _add_review_commands(commands: Any) -> None:
    review = commands.add_parser("review", help="the review calendar")
    actions = review.add_subparsers(dest="action", required=True)
    due = actions.add_parser("due", help="reviews overdue, due now and next")
    due.add_argument("--today", help="the day to compute for, YYYY-MM-DD (UTC)")
    due.set_defaults(run=_cmd_review_due)
    complete = actions.add_parser("complete", help="record a review as done")
    complete.add_argument(
        "--review",
        required=True,
        choices=("performance", "drift", "model", "governance"),
    )
    complete.add_argument(
        "--scope", required=True, help="the model's name, or console for governance"
    )
    complete.add_argument(
        "--period", required=True, help="e.g. 2026-12-03, 2026-W49, 2026-12, 2026-Q4"
    )
    complete.add_argument("--notes", required=True)
    complete.add_argument("--findings", default="")
    complete.add_argument("--as", dest="as_user", help="acting username")
    complete.set_defaults(run=_cmd_review_complete)


def _cmd_report(args: argparse.Namespace) -> int:
    from governance.operations.incidents import find_version_id, report_incident

    with _store() as (engine, policy):
        actor = _actor(engine, args.as_user)
        incident_id = report_incident(
            engine,
            policy,
            actor_id=actor,
            model_version_id=find_version_id(engine, args.model, args.version),
            kind=args.kind,
            severity=args.severity,
            description=args.description,
            evidence_links=args.evidence or (),
        )
        _say(f"Reported incident {incident_id} on {args.model} version {args.version}.")
    return EXIT_OK


def _cmd_list(args: argparse.Namespace) -> int:
    from governance.operations.incidents import list_incidents

    with _store() as (engine, _):
        incidents = list_incidents(engine, include_closed=args.all)
        if not incidents:
            _say("No incidents." if args.all else "No open incidents.")
        for item in incidents:
            following = item.next_step.title if item.next_step else "ready to close"
            if not item.is_open:
                following = "closed"
            _say(
                f"{item.id:>5}  {item.kind:<11} {item.severity:<8} "
                f"{item.model_name} {item.version}  "
                f"{item.steps_done}/{len(item.steps)} steps  {following}"
            )
    return EXIT_OK


def _cmd_show(args: argparse.Namespace) -> int:
    from governance.operations.incidents import get_incident, incident_timeline

    with _store() as (engine, _):
        item = get_incident(engine, args.id)
        _say(
            f"Incident {item.id}: {item.kind}, {item.severity}, {item.status}, on "
            f"{item.model_name} {item.version}; handled by {item.handled_by}."
        )
        _say(item.description)
        for link in item.evidence_links:
            _say(f"  evidence: {link}")
        for step in item.steps:
            mark = "x" if step.is_done else " "
            done = (
                f" — {step.done_by}, {step.done_at:%Y-%m-%d %H:%M}"
                if step.done_at
                else ""
            )
            _say(f"  [{mark}] {step.position}. {step.title} ({step.step}){done}")
        _say("Timeline:")
        for entry in incident_timeline(engine, args.id):
            when = f"{entry.occurred_at:%Y-%m-%d %H:%M}"
            _say(f"  #{entry.seq} {when} {entry.actor}: {entry.action}")
    return EXIT_OK


def _cmd_step(args: argparse.Namespace) -> int:
    from governance.operations.incidents import complete_step

    with _store() as (engine, policy):
        complete_step(
            engine,
            policy,
            actor_id=_actor(engine, args.as_user),
            incident_id=args.id,
            step=args.step,
            note=args.note,
        )
        _say(f"Incident {args.id}: step {args.step} done.")
    return EXIT_OK


def _cmd_rollback(args: argparse.Namespace) -> int:
    from governance.operations.incidents import start_rollback
    from governance.settings import load_settings
    from governance.workflow.rollout import MlflowRegistryWriter

    with _store() as (engine, policy):
        rollout_step = start_rollback(
            engine,
            policy,
            actor_id=_actor(engine, args.as_user),
            incident_id=args.id,
            reason=args.reason,
            registry=MlflowRegistryWriter(load_settings().mlflow_tracking_uri),
        )
        _say(f"Incident {args.id}: rolled back (rollout step {rollout_step}).")
    return EXIT_OK


def _cmd_close(args: argparse.Namespace) -> int:
    from governance.operations.incidents import close_incident

    with _store() as (engine, policy):
        close_incident(
            engine,
            policy,
            actor_id=_actor(engine, args.as_user),
            incident_id=args.id,
            note=args.note,
        )
        _say(f"Incident {args.id} closed.")
    return EXIT_OK


def _cmd_reopen(args: argparse.Namespace) -> int:
    from governance.operations.incidents import reopen_incident

    with _store() as (engine, policy):
        reopen_incident(
            engine,
            policy,
            actor_id=_actor(engine, args.as_user),
            incident_id=args.id,
            reason=args.reason,
            from_step=args.from_step,
        )
        _say(f"Incident {args.id} reopened.")
    return EXIT_OK


def _cmd_review_due(args: argparse.Namespace) -> int:
    from datetime import UTC, date, datetime

    from governance.errors import InvalidInputError
    from governance.operations.calendar import review_tasks

    try:
        today = date.fromisoformat(args.today) if args.today else None
    except ValueError as exc:
        raise InvalidInputError(
            f"--today is {args.today!r}; write YYYY-MM-DD."
        ) from exc
    with _store() as (engine, policy):
        tasks = review_tasks(engine, policy, today=today or datetime.now(UTC).date())
        for task in tasks:
            missed = f" ({task.missed} missed)" if task.missed > 1 else ""
            _say(
                f"{task.status:<8} {task.title} of {task.scope} for {task.period.label}, "
                f"due {task.period.due_on:%Y-%m-%d}, {task.role_title}{missed}"
            )
    return EXIT_OK


def _cmd_review_complete(args: argparse.Namespace) -> int:
    from governance.operations.calendar import complete_review

    with _store() as (engine, policy):
        complete_review(
            engine,
            policy,
            actor_id=_actor(engine, args.as_user),
            review=args.review,
            scope=args.scope,
            period=args.period,
            notes=args.notes,
            findings=args.findings,
        )
        _say(f"Recorded the {args.review} review of {args.scope} for {args.period}.")
    return EXIT_OK
