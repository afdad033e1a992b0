"""Commands for monitoring and retraining requests.

``monitor`` is meant for a scheduler such as cron: without ``--as`` (or
``GOVERNANCE_USER``) it runs as the console's system account. It exits 0 when no
trigger fired, 1 when one did, and 2 when a model could not be monitored (no log
configured, an unreadable log).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

EXIT_OK, EXIT_CHECK_FAILED, EXIT_ERROR = 0, 1, 2


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")


def _actor(engine: Any, username: str | None) -> str:
    from governance.cli import _actor as actor_of

    return actor_of(engine, username)


@contextmanager
def _store() -> Iterator[tuple[Any, Any, Any]]:
    """Settings, a migrated store and the policy; the engine is closed afterwards."""
    from governance.bootstrap import prepare_store
    from governance.settings import load_settings

    settings = load_settings()
    engine, policy = prepare_store(settings)
    try:
        yield settings, engine, policy
    finally:
        engine.dispose()


def add_commands(commands: Any) -> None:
    """Add this area's commands to the ``python -m governance`` parser."""
    monitor = commands.add_parser(
        "monitor",
        help="score new production windows and evaluate the retraining triggers",
    )
    monitor.add_argument("--model", help="only this model (default: every model)")
    monitor.add_argument(
        "--log",
        help="set the model's prediction log (CSV, Parquet or Delta) before the run; "
        "needs --model and an ML engineer",
    )
    monitor.add_argument("--as", dest="as_user", help="acting username")
    monitor.set_defaults(run=_cmd_monitor)

    retraining = commands.add_parser("retraining", help="retraining requests")
    actions = retraining.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="a model's retraining requests")
    listing.add_argument("--model", required=True)
    listing.set_defaults(run=_cmd_retraining_list)
    link = actions.add_parser("link", help="link the retrained version to a request")
    link.add_argument("--request", type=int, required=True)
    link.add_argument("--version", required=True, help="the new version, e.g. 4")
    link.add_argument("--as", dest="as_user", help="acting username")
    link.set_defaults(run=_cmd_retraining_link)
    decline = actions.add_parser("decline", help="decline a request, with the reason")
    decline.add_argument("--request", type=int, required=True)
    decline.add_argument("--reason", required=True)
    decline.add_argument("--as", dest="as_user", help="acting username")
    decline.set_defaults(run=_cmd_retraining_decline)


def _cmd_monitor(args: argparse.Namespace) -> int:
    from governance.access import SYSTEM_USER_ID
    from governance.errors import InvalidInputError
    from governance.operations.monitoring import run_monitoring, set_log_location

    if args.log and not args.model:
        raise InvalidInputError("--log sets one model's log; name it with --model.")
    with _store() as (settings, engine, policy):
        is_scheduled = not (args.as_user or os.environ.get("GOVERNANCE_USER"))
        actor = SYSTEM_USER_ID if is_scheduled else _actor(engine, args.as_user)
        if args.log:
            set_log_location(
                engine, actor_id=actor, model_name=args.model, location=args.log
            )
            _say(f"Prediction log of {args.model}: {args.log}")
        report = run_monitoring(
            settings, engine, policy, actor_id=actor, model=args.model
        )
    for line in report.lines() or ["No model has a version in production."]:
        _say(line)
    if report.problems:
        return EXIT_ERROR
    return EXIT_CHECK_FAILED if report.needs_attention else EXIT_OK


def _cmd_retraining_list(args: argparse.Namespace) -> int:
    from governance.operations.retraining import requests_of_model

    with _store() as (_, engine, _):
        requests = requests_of_model(engine, args.model)
    if not requests:
        _say(f"{args.model} has no retraining request.")
    for request in requests:
        linked = (
            f"version {request.linked_version} ({request.linked_stage})"
            if request.linked_version
            else "no version linked yet"
        )
        _say(
            f"Request {request.id}  {request.status:<9} opened "
            f"{request.opened_at:%Y-%m-%d} for version {request.version}; {linked}; "
            f"{len(request.triggers)} trigger(s). {request.reason}"
        )
    return EXIT_OK


def _cmd_retraining_link(args: argparse.Namespace) -> int:
    from governance.operations.retraining import link_version, version_for_request

    with _store() as (_, engine, _):
        version_id = version_for_request(engine, args.request, args.version)
        link_version(
            engine,
            actor_id=_actor(engine, args.as_user),
            request_id=args.request,
            version_id=version_id,
        )
    _say(f"Version {args.version} linked to retraining request {args.request}.")
    return EXIT_OK


def _cmd_retraining_decline(args: argparse.Namespace) -> int:
    from governance.operations.retraining import decline_request

    with _store() as (_, engine, _):
        decline_request(
            engine,
            actor_id=_actor(engine, args.as_user),
            request_id=args.request,
            reason=args.reason,
        )
    _say(f"Retraining request {args.request} declined.")
    return EXIT_OK
