"""Commands for retention, legal holds, retiring a model, backup, restore, erasure.

``retention status|purge|holds|hold|release``, ``retire``, ``backup --out FILE``,
``restore --from FILE [--force]`` and ``erase --user USERNAME``. Commands that
change records take the acting person from ``--as`` or ``GOVERNANCE_USER``.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from governance.errors import GovernanceError

EXIT_OK, EXIT_CHECK_FAILED = 0, 1


def add_commands(commands: Any) -> None:
    """Add this area's commands to the ``python -m governance`` parser."""
    retention = commands.add_parser(
        "retention", help="retention of records and legal holds"
    ).add_subparsers(dest="action", required=True)
    retention.add_parser(
        "status", help="each record class: oldest record, when it becomes due"
    ).set_defaults(run=_cmd_status)

    purge = retention.add_parser(
        "purge", help="delete what is past retention and not held (audited)"
    )
    purge.add_argument(
        "--as-of", type=_day, help="purge date, YYYY-MM-DD (default today, UTC)"
    )
    purge.add_argument(
        "--dry-run", action="store_true", help="list what would go; delete nothing"
    )
    _as_user(purge)
    purge.set_defaults(run=_cmd_purge)

    retention.add_parser("holds", help="list legal holds").set_defaults(run=_cmd_holds)
    hold = retention.add_parser("hold", help="place a legal hold (audited)")
    subject = hold.add_mutually_exclusive_group(required=True)
    subject.add_argument("--model", help="a governed model's name")
    subject.add_argument("--version-id", type=int, help="a model version's id")
    subject.add_argument("--report", type=int, help="a compliance report's id")
    subject.add_argument(
        "--audit-from", type=_day, help="hold the audit log from this day, YYYY-MM-DD"
    )
    hold.add_argument("--reason", required=True, help="the matter or request")
    _as_user(hold)
    hold.set_defaults(run=_cmd_hold)

    release = retention.add_parser("release", help="release a legal hold (audited)")
    release.add_argument("--hold", type=int, required=True, help="the hold's id")
    release.add_argument("--reason", required=True)
    _as_user(release)
    release.set_defaults(run=_cmd_release)

    retire = commands.add_parser(
        "retire", help="retire a model for good and archive its records"
    )
    retire.add_argument("--model", required=True)
    retire.add_argument("--reason", required=True)
    _as_user(retire)
    retire.set_defaults(run=_cmd_retire)

    backup = commands.add_parser(
        "backup", help="copy the SQLite store while in use (PostgreSQL: pg_dump)"
    )
    backup.add_argument("--out", required=True, help="new file to write")
    backup.set_defaults(run=_cmd_backup)

    restore = commands.add_parser(
        "restore", help="load a backup into an empty SQLite store"
    )
    restore.add_argument("--from", dest="source", required=True, help="backup file")
    restore.add_argument(
        "--force", action="store_true", help="replace a store that is not empty"
    )
    restore.set_defaults(run=_cmd_restore)

    erase = commands.add_parser(
        "erase", help="erase a person's name and e-mail (GDPR; audited)"
    )
    erase.add_argument("--user", required=True, help="username of the person")
    erase.add_argument("--reason", required=True, help="the request it answers")
    _as_user(erase)
    erase.set_defaults(run=_cmd_erase)


def _as_user(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as", dest="as_user", help="acting username (default: GOVERNANCE_USER)"
    )


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a date; write it as YYYY-MM-DD"
        ) from exc


def _store() -> Any:
    from governance.bootstrap import prepare_store
    from governance.settings import load_settings

    settings = load_settings()
    engine, policy = prepare_store(settings)
    return settings, engine, policy


def _cmd_status(args: argparse.Namespace) -> int:
    from governance.cli import _say
    from governance.records.retention import retention_status

    _, engine, policy = _store()
    try:
        for status in retention_status(engine, policy):
            oldest = f"{status.oldest:%Y-%m-%d}" if status.oldest else "-"
            due = status.becomes_due.isoformat() if status.becomes_due else "-"
            _say(
                f"{status.label:<20} {status.years} years ({status.note}): "
                f"{status.records} records, oldest {oldest}, first due {due}"
            )
    finally:
        engine.dispose()
    return EXIT_OK


def _cmd_purge(args: argparse.Namespace) -> int:
    from governance.cli import _actor, _say
    from governance.records.retention import plan_purge, run_purge

    settings, engine, policy = _store()
    try:
        if args.dry_run:
            _say("Dry run: " + plan_purge(engine, policy, as_of=args.as_of).describe())
            return EXIT_OK
        result, verification = run_purge(
            settings,
            engine,
            policy,
            actor_id=_actor(engine, args.as_user),
            as_of=args.as_of,
        )
    finally:
        engine.dispose()
    _say(f"Purge {result.purge_id}: {result.plan.describe()}")
    _say(
        f"Rows deleted: {result.counts['tables'] or 'none'}; files: {result.files_deleted}"
    )
    _say(verification.describe())
    return EXIT_OK if verification.is_intact else EXIT_CHECK_FAILED


def _cmd_holds(args: argparse.Namespace) -> int:
    from governance.cli import _say
    from governance.records.retention import list_holds

    _, engine, _ = _store()
    try:
        holds = list_holds(engine)
    finally:
        engine.dispose()
    if not holds:
        _say("No legal holds.")
    for hold in holds:
        subject = hold.subject_id or f"from {hold.held_from}"
        state = (
            f"released {hold.released_at:%Y-%m-%d}" if hold.released_at else "in force"
        )
        _say(f"#{hold.id}  {hold.subject_type} {subject}  {state}  ({hold.reason})")
    return EXIT_OK


def _cmd_hold(args: argparse.Namespace) -> int:
    from governance.cli import _actor, _say
    from governance.records.retention import place_hold

    subject_type, subject_id = next(
        (kind, value)
        for kind, value in (
            ("model", args.model),
            ("model_version", args.version_id),
            ("compliance_report", args.report),
            ("audit_log", args.audit_from),
        )
        if value is not None
    )
    _, engine, _ = _store()
    try:
        hold = place_hold(
            engine,
            actor_id=_actor(engine, args.as_user),
            subject_type=subject_type,
            subject_id="" if subject_type == "audit_log" else str(subject_id),
            held_from=args.audit_from,
            reason=args.reason,
        )
    finally:
        engine.dispose()
    _say(f"Legal hold {hold.id} placed on {subject_type} {subject_id}.")
    return EXIT_OK


def _cmd_release(args: argparse.Namespace) -> int:
    from governance.cli import _actor, _say
    from governance.records.retention import release_hold

    _, engine, _ = _store()
    try:
        release_hold(
            engine,
            actor_id=_actor(engine, args.as_user),
            hold_id=args.hold,
            reason=args.reason,
        )
    finally:
        engine.dispose()
    _say(f"Legal hold {args.hold} released.")
    return EXIT_OK


def _cmd_retire(args: argparse.Namespace) -> int:
    from governance.cli import _actor, _say
    from governance.records.retention import retire_model

    settings, engine, policy = _store()
    try:
        archive = retire_model(
            settings,
            engine,
            policy,
            actor_id=_actor(engine, args.as_user),
            model_name=args.model,
            reason=args.reason,
        )
    finally:
        engine.dispose()
    _say(f"{args.model} retired; archive {settings.home / archive.path}")
    _say(f"sha256 {archive.sha256}")
    return EXIT_OK


def _cmd_backup(args: argparse.Namespace) -> int:
    from governance.cli import _say
    from governance.records.backup import backup_store
    from governance.settings import load_settings

    copy = backup_store(load_settings(), Path(args.out))
    _say(f"Backup written: {copy.describe()}")
    return EXIT_OK


def _cmd_restore(args: argparse.Namespace) -> int:
    from governance.audit import verify_chain
    from governance.cli import _say
    from governance.records.backup import restore_store
    from governance.settings import load_settings

    copy = restore_store(load_settings(), Path(args.source), force=args.force)
    _say(f"Restored: {copy.describe()}")
    _, engine, _ = _store()
    try:
        verification = verify_chain(engine)
    finally:
        engine.dispose()
    _say(verification.describe())
    return EXIT_OK if verification.is_intact else EXIT_CHECK_FAILED


def _cmd_erase(args: argparse.Namespace) -> int:
    from sqlmodel import select

    from governance.cli import _actor, _say
    from governance.records.erasure import erase_person
    from governance.store import read_session
    from governance.tables import User

    _, engine, _ = _store()
    try:
        with read_session(engine) as session:
            user = session.exec(select(User).where(User.username == args.user)).first()
        if user is None:
            raise GovernanceError(
                f"No user named {args.user!r}; list people with `python -m governance users`."
            )
        erasure = erase_person(
            engine,
            actor_id=_actor(engine, args.as_user),
            user_id=user.id,
            reason=args.reason,
        )
    finally:
        engine.dispose()
    _say(
        f"Erased the name and e-mail of user {erasure.user_id}; "
        f"the account is now {erasure.placeholder} and deactivated."
    )
    return EXIT_OK
