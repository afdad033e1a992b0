"""Commands for compliance reports, per-version documents and the templates.

``report monthly|quarterly [--period P]`` generates and keeps the periodic report
(this month or quarter by default); ``report document`` keeps one of a version's
required documents; ``report list`` lists what is kept; ``report template``
writes one of the framework's templates. Each prints where the files are.
"""

from __future__ import annotations

import argparse
from typing import Any

from governance.errors import GovernanceError

EXIT_OK = 0


def add_commands(commands: Any) -> None:
    """Add this area's commands to the ``python -m governance`` parser."""
    report = commands.add_parser(
        "report", help="compliance reports, per-version documents and templates"
    ).add_subparsers(dest="action", required=True)
    for command, title in (
        ("monthly", "the compliance report (period YYYY-MM)"),
        ("quarterly", "the risk assessment (period YYYY-Qn)"),
    ):
        periodic = report.add_parser(command, help=f"generate and keep {title}")
        periodic.add_argument(
            "--period",
            help="the period, or 'previous' for the last one ended "
            "(default: the one holding today, UTC)",
        )
        _as_user(periodic)
        periodic.set_defaults(run=_cmd_periodic, command_name=command)

    document = report.add_parser(
        "document", help="generate and keep one of a version's required documents"
    )
    document.add_argument("--model", required=True)
    document.add_argument("--version", required=True)
    document.add_argument(
        "--kind",
        required=True,
        choices=(
            "risk_assessment_report",
            "compliance_validation_report",
            "approval_record",
        ),
    )
    _as_user(document)
    document.set_defaults(run=_cmd_document)

    listing = report.add_parser("list", help="list kept reports and documents")
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(run=_cmd_list)

    template = report.add_parser("template", help="write one of the templates")
    template.add_argument(
        "--name",
        required=True,
        choices=("model_approval_request", "risk_assessment", "compliance_checklist"),
    )
    template.add_argument("--format", choices=("md", "pdf"), default="md")
    template.add_argument("--out", required=True, help="file to write")
    template.set_defaults(run=_cmd_template)


def _as_user(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as", dest="as_user", help="acting username (default: GOVERNANCE_USER)"
    )


def _say_kept(stored: Any) -> None:
    from governance.cli import _say

    _say(f"Kept report {stored.id}: {stored.title}")
    _say(f"HTML: {stored.html_path}  (sha256 {stored.html_sha256})")
    _say(f"PDF:  {stored.pdf_path}  (sha256 {stored.pdf_sha256})")


def _cmd_periodic(args: argparse.Namespace) -> int:
    from governance.bootstrap import prepare_store
    from governance.cli import _actor
    from governance.records.reports import KIND_BY_COMMAND, generate_report
    from governance.settings import load_settings

    settings = load_settings()
    engine, policy = prepare_store(settings)
    try:
        stored = generate_report(
            settings,
            engine,
            policy,
            actor_id=_actor(engine, args.as_user),
            kind=KIND_BY_COMMAND[args.command_name],
            period=args.period,
        )
    finally:
        engine.dispose()
    _say_kept(stored)
    return EXIT_OK


def _cmd_document(args: argparse.Namespace) -> int:
    from governance.bootstrap import prepare_store
    from governance.cli import _actor
    from governance.records.documents import generate_document
    from governance.settings import load_settings

    settings = load_settings()
    engine, policy = prepare_store(settings)
    try:
        stored = generate_document(
            settings,
            engine,
            policy,
            actor_id=_actor(engine, args.as_user),
            model=args.model,
            version=args.version,
            kind=args.kind,
        )
    finally:
        engine.dispose()
    _say_kept(stored)
    return EXIT_OK


def _cmd_list(args: argparse.Namespace) -> int:
    from governance.cli import _engine, _say
    from governance.records.stored import list_reports

    engine = _engine()
    try:
        rows = list_reports(engine, limit=args.limit)
    finally:
        engine.dispose()
    if not rows:
        _say("No reports kept yet.")
    for row in rows:
        _say(f"#{row.id}  {row.created_at:%Y-%m-%d %H:%M}  {row.kind:<28} {row.title}")
        _say(f"      {row.pdf_path}")
    return EXIT_OK


def _cmd_template(args: argparse.Namespace) -> int:
    from governance.cli import _say
    from governance.policy import load_policy
    from governance.records.templates import (
        get_template,
        template_markdown,
        template_pdf,
    )
    from governance.settings import load_settings

    policy = load_policy(load_settings().policy_path)
    template = get_template(policy, args.name)
    content = (
        template_markdown(template, policy).encode("utf-8")
        if args.format == "md"
        else template_pdf(template, policy)
    )
    try:
        with open(args.out, "wb") as handle:
            handle.write(content)
    except OSError as exc:
        raise GovernanceError(f"Cannot write {args.out}: {exc.strerror}.") from exc
    _say(f"Wrote {args.out} ({template.title}, {args.format}).")
    return EXIT_OK
