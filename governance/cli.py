"""Command line: ``python -m governance COMMAND``.

Exit codes: 0 success, 1 a check failed (a broken audit chain, a failed standard),
2 the command could not run (bad input, unreachable store); the message on
standard error says which and what to do.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from governance import (
    cli_alerts,
    cli_incidents,
    cli_monitoring,
    cli_records,
    cli_reports,
    cli_serving,
    cli_training,
)
from governance.errors import GovernanceError

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_CHECK_FAILED, EXIT_ERROR = 0, 1, 2


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")


def _cmd_db_upgrade(args: argparse.Namespace) -> int:
    from governance.bootstrap import prepare_store
    from governance.settings import load_settings

    prepare_store(load_settings())
    _say("Store is at the newest schema and the policy file is installed.")
    return EXIT_OK


def _cmd_policy_validate(args: argparse.Namespace) -> int:
    from governance.policy import load_policy
    from governance.settings import load_settings

    path = Path(args.file) if args.file else load_settings().policy_path
    policy = load_policy(path)
    _say(f"{path}: valid, version {policy.version}, content hash {policy.content_hash}")
    return EXIT_OK


def _cmd_policy_install(args: argparse.Namespace) -> int:
    from governance.bootstrap import prepare_store
    from governance.settings import load_settings

    settings = load_settings()
    if args.file:
        settings = dataclasses.replace(settings, policy_path=Path(args.file))
    _, policy = prepare_store(settings)
    _say(f"Policy {policy.version} ({policy.content_hash[:12]}) is in force.")
    return EXIT_OK


def _cmd_audit_verify(args: argparse.Namespace) -> int:
    from governance.records.checkpoints import (
        audit_key,
        read_checkpoints,
        verify_audit_trail,
        verify_export,
    )
    from governance.settings import load_settings

    settings = load_settings()
    if not args.file:
        result = verify_audit_trail(settings, _engine())
        _say(result.describe())
        return EXIT_OK if result.is_intact else EXIT_CHECK_FAILED
    folder = Path(args.checkpoints) if args.checkpoints else None
    checkpoints = read_checkpoints(folder or settings.audit_checkpoint_dir)
    try:
        with open(args.file, encoding="utf-8") as handle:
            result = verify_export(
                handle, key=audit_key(settings), checkpoints=checkpoints
            )
    except OSError as exc:
        raise GovernanceError(f"Cannot read {args.file}: {exc.strerror}.") from exc
    _say(result.describe())
    return EXIT_OK if result.is_intact else EXIT_CHECK_FAILED


def _cmd_audit_export(args: argparse.Namespace) -> int:
    from governance.records.checkpoints import audit_key
    from governance.records.explorer import export_csv, export_jsonl
    from governance.settings import load_settings

    engine = _engine()
    filters = _audit_filter(engine, args)
    if args.format == "jsonl":
        key = audit_key(load_settings(), create=True)
        lines = export_jsonl(engine, filters, key=key)
    else:
        lines = export_csv(engine, filters)
    try:
        with open(args.out, "w", encoding="utf-8", newline="") as handle:
            handle.writelines(lines)
    except OSError as exc:
        raise GovernanceError(f"Cannot write {args.out}: {exc.strerror}.") from exc
    scope = "filtered" if filters.is_filtered else "whole trail"
    _say(f"Wrote {args.out} ({args.format}, {scope}).")
    return EXIT_OK


def _audit_filter(engine, args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from datetime import date

    from governance.errors import InvalidInputError
    from governance.records.explorer import AuditFilter, day_range

    days = []
    for flag, value in (("--since", args.since), ("--until", args.until)):
        try:
            days.append(date.fromisoformat(value) if value else None)
        except ValueError as exc:
            raise InvalidInputError(
                f"{flag} is {value!r}; give a day as YYYY-MM-DD."
            ) from exc
    since, until = day_range(days[0], days[1])
    actor = _actor(engine, args.actor) if args.actor else None
    return AuditFilter(
        model=args.model,
        version=args.version,
        actor_id=actor,
        actions=tuple(args.action or ()),
        since=since,
        until=until,
    )


def _cmd_audit_checkpoint(args: argparse.Namespace) -> int:
    from governance.records.checkpoints import write_checkpoint
    from governance.settings import load_settings

    checkpoint = write_checkpoint(load_settings(), _engine())
    _say(
        f"Checkpoint of event #{checkpoint.seq} ({checkpoint.hash[:16]}…) signed "
        f"and written to {checkpoint.path}."
    )
    return EXIT_OK


def _cmd_users(args: argparse.Namespace) -> int:
    from governance.access import list_people

    for person in list_people(_engine()):
        _say(
            f"{person.id}  {person.username:<16} {person.display_name:<24} {person.role_titles}"
        )
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    from governance.demo.world import build_demo
    from governance.settings import load_settings

    report = build_demo(load_settings(), seed=args.seed, reset=args.reset)
    _say(report)
    return EXIT_OK


def _cmd_bootstrap(args: argparse.Namespace) -> int:
    from governance.bootstrap import prepare_store
    from governance.demo.world import build_demo, demo_is_built
    from governance.settings import load_settings

    settings = load_settings()
    engine, _ = prepare_store(settings)
    if demo_is_built(engine) or not args.with_demo:
        _say("Store ready.")
        return EXIT_OK
    _say(build_demo(settings, seed=args.seed, reset=False))
    return EXIT_OK


def _actor(engine, username: str | None) -> str:  # type: ignore[no-untyped-def]
    import os

    from sqlmodel import select

    from governance.access import SYSTEM_USER_ID
    from governance.store import read_session
    from governance.tables import User

    name = username or os.environ.get("GOVERNANCE_USER")
    if not name:
        raise GovernanceError(
            "Say who is acting: pass --as USERNAME or set GOVERNANCE_USER "
            "(list people with `python -m governance users`)."
        )
    if name == "system":
        return SYSTEM_USER_ID
    with read_session(engine) as session:
        user = session.exec(select(User).where(User.username == name)).first()
    if user is None:
        raise GovernanceError(
            f"No user named {name!r}; list people with `python -m governance users`."
        )
    return user.id


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _cmd_register(args: argparse.Namespace) -> int:
    from governance.bootstrap import prepare_store
    from governance.registration import RegistrationRequest, register_model
    from governance.settings import load_settings

    settings = load_settings()
    engine, policy = prepare_store(settings)
    request = RegistrationRequest(
        name=args.name,
        model_uri=args.model_uri,
        train=args.train,
        test=args.test,
        current=args.current,
        target=args.target,
        sensitive_features=_split(args.sensitive),
        pii_columns=_split(args.pii),
        timestamp=args.timestamp,
        owner=args.owner,
        features=_split(args.features),
        decision_threshold=args.threshold,
        description=args.description,
    )
    result = register_model(
        settings, engine, policy, request, actor_id=_actor(engine, args.as_user)
    )
    _say(f"Registered {result.name} version {result.version} (id {result.version_id}).")
    _say(f"Features ({len(result.features)}): {', '.join(result.features)}")
    _say(
        f"PII columns kept out of the features: {', '.join(result.pii_columns) or 'none'}"
    )
    if result.detected_pii:
        _say(f"Detected automatically: {', '.join(result.detected_pii)}")
    for part, ref in result.datasets.items():
        pinned = (
            f" (Delta version {ref.delta_version})"
            if ref.delta_version is not None
            else ""
        )
        _say(f"{part}: {ref.rows} rows, sha256 {ref.sha256[:16]}…{pinned}")
    return EXIT_OK


def _cmd_assess(args: argparse.Namespace) -> int:
    import json

    from governance.assessment.runner import assess_version
    from governance.bootstrap import prepare_store
    from governance.settings import load_settings

    settings = load_settings()
    engine, policy = prepare_store(settings)
    actor = _actor(engine, args.as_user)
    try:
        outcome = assess_version(
            settings,
            engine,
            policy,
            model=args.model,
            version=args.version,
            actor_id=actor,
        )
    except GovernanceError as exc:
        if args.json:
            _say(
                json.dumps(
                    {"model": args.model, "version": args.version, "error": str(exc)}
                )
            )
        raise
    summary = outcome.summary()
    if args.json:
        _say(json.dumps(summary, indent=2))
    else:
        for standard in summary["standards"]:
            mark = {True: "PASS", False: "FAIL", None: "N/A "}[standard["passed"]]
            _say(
                f"{mark}  {standard['name']}: {standard['value']} (threshold {standard['threshold']})"
            )
        risk = summary["risk"]
        _say(
            f"Risk {risk['level']} ({risk['score']:.2f}); approvers: {', '.join(risk['required_approvers'])}"
        )
        _say(
            "All standards met." if outcome.passed else "At least one standard failed."
        )
    return EXIT_OK if outcome.passed else EXIT_CHECK_FAILED


def _cmd_job_run(args: argparse.Namespace) -> int:
    from governance.jobs import run_assessment_job
    from governance.settings import load_settings

    return run_assessment_job(load_settings(), args.job_id)


def _engine():  # type: ignore[no-untyped-def]
    from governance.bootstrap import prepare_store
    from governance.settings import load_settings

    engine, _ = prepare_store(load_settings())
    return engine


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="python -m governance", description=__doc__.split("\n")[0]
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    commands = parser.add_subparsers(dest="command", required=True)

    db = commands.add_parser("db", help="the console's database").add_subparsers(
        dest="action", required=True
    )
    db.add_parser(
        "upgrade", help="apply migrations and install the policy"
    ).set_defaults(run=_cmd_db_upgrade)

    policy = commands.add_parser(
        "policy", help="the governance policy file"
    ).add_subparsers(dest="action", required=True)
    validate = policy.add_parser(
        "validate", help="check a policy file without installing it"
    )
    validate.add_argument(
        "file", nargs="?", help="policy file (default: the one in force)"
    )
    validate.set_defaults(run=_cmd_policy_validate)
    install = policy.add_parser(
        "install", help="install a policy file (an audited event)"
    )
    install.add_argument(
        "file", nargs="?", help="policy file (default: GOVERNANCE_POLICY)"
    )
    install.set_defaults(run=_cmd_policy_install)

    audit = commands.add_parser("audit", help="the audit trail").add_subparsers(
        dest="action", required=True
    )
    verify = audit.add_parser(
        "verify", help="check the hash chain and the signed checkpoints"
    )
    verify.add_argument(
        "--file", help="verify an exported JSONL file instead of the database"
    )
    verify.add_argument(
        "--checkpoints",
        help="checkpoint folder to check the file against "
        "(default: GOVERNANCE_AUDIT_CHECKPOINTS)",
    )
    verify.set_defaults(run=_cmd_audit_verify)
    export = audit.add_parser(
        "export", help="write the trail, or part of it, to a file"
    )
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--out", required=True, help="file to write")
    export.add_argument("--model", help="only events about this model")
    export.add_argument(
        "--version", help="only events about this version (with --model)"
    )
    export.add_argument("--actor", help="only events by this username")
    export.add_argument(
        "--action", action="append", help="only this event type (repeatable)"
    )
    export.add_argument("--since", help="first day, YYYY-MM-DD (UTC)")
    export.add_argument("--until", help="last day, YYYY-MM-DD (UTC, inclusive)")
    export.set_defaults(run=_cmd_audit_export)
    audit.add_parser(
        "checkpoint", help="sign the chain head into the checkpoint folder (for cron)"
    ).set_defaults(run=_cmd_audit_checkpoint)

    register = commands.add_parser(
        "register", help="bring a model version logged to MLflow under governance"
    )
    register.add_argument("--name", required=True, help="name of the governed model")
    register.add_argument(
        "--model-uri",
        required=True,
        help="models:/NAME/VERSION, models:/NAME@ALIAS or runs:/RUN/PATH",
    )
    register.add_argument(
        "--train",
        required=True,
        help="training data: CSV, Parquet or Delta table (PATH@vN pins a version)",
    )
    register.add_argument("--test", required=True, help="held-out test data")
    register.add_argument("--current", help="current (production-like) data for drift")
    register.add_argument("--target", required=True, help="binary 0/1 target column")
    register.add_argument(
        "--sensitive",
        required=True,
        help="sensitive feature column(s), comma-separated",
    )
    register.add_argument(
        "--pii", help="PII column(s), comma-separated (also detected automatically)"
    )
    register.add_argument(
        "--timestamp", help="timestamp column, for freshness and time windows"
    )
    register.add_argument("--owner", help="username of the model owner (default: you)")
    register.add_argument(
        "--features", help="model input columns (default: the model signature)"
    )
    register.add_argument(
        "--threshold",
        type=float,
        help="decision threshold (default: the run's decision_threshold tag, else 0.5)",
    )
    register.add_argument("--description", help="what the model is for")
    register.add_argument(
        "--as", dest="as_user", help="acting username (default: GOVERNANCE_USER)"
    )
    register.set_defaults(run=_cmd_register)

    assess = commands.add_parser(
        "assess", help="assess a registered version against every standard"
    )
    assess.add_argument("--model", required=True)
    assess.add_argument("--version", required=True)
    assess.add_argument(
        "--json", action="store_true", help="print one JSON object (for CI/CD gates)"
    )
    assess.add_argument(
        "--as", dest="as_user", help="acting username (default: GOVERNANCE_USER)"
    )
    assess.set_defaults(run=_cmd_assess)

    job = commands.add_parser(
        "job-run", help="run a queued background job (started by the app)"
    )
    job.add_argument("job_id")
    job.set_defaults(run=_cmd_job_run)

    commands.add_parser("users", help="list people and their roles").set_defaults(
        run=_cmd_users
    )

    demo = commands.add_parser("demo", help="build the demo lead-scoring world")
    demo.add_argument(
        "--reset", action="store_true", help="delete the demo world and build it again"
    )
    demo.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    demo.set_defaults(run=_cmd_demo)

    bootstrap = commands.add_parser(
        "bootstrap", help="prepare the store; build the demo if it is empty"
    )
    bootstrap.add_argument(
        "--with-demo",
        action="store_true",
        help="build the demo when the store has no models",
    )
    bootstrap.add_argument("--seed", type=int, default=7)
    bootstrap.set_defaults(run=_cmd_bootstrap)

    areas = (
        cli_monitoring,
        cli_alerts,
        cli_incidents,
        cli_serving,
        cli_records,
        cli_reports,
        cli_training,
    )
    for area in areas:
        area.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except GovernanceError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_ERROR
    except Exception:
        # A defect, not bad input: keep the traceback in the log, and the exit
        # code distinct from "a standard failed".
        logger.exception("The command stopped on an unexpected error")
        sys.stderr.write("error: unexpected failure; the traceback above says where.\n")
        return EXIT_ERROR
