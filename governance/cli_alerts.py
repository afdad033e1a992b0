"""Commands for alerts and their delivery.

``alerts deliver`` is meant for a scheduler (cron every few minutes): it sends the
queued deliveries, retries earlier failures whose backoff has passed, and exits 1
when a delivery was given up in this run, so the scheduler reports it.
"""

from __future__ import annotations

import argparse
from typing import Any

EXIT_OK, EXIT_CHECK_FAILED = 0, 1


def add_commands(commands: Any) -> None:
    """Add this area's commands to the ``python -m governance`` parser."""
    alerts = commands.add_parser(
        "alerts", help="alerts and their delivery by e-mail or webhook"
    ).add_subparsers(dest="action", required=True)
    deliver = alerts.add_parser(
        "deliver", help="send queued alert deliveries and retry failed ones (cron)"
    )
    deliver.set_defaults(run=_cmd_deliver)
    listing = alerts.add_parser("list", help="list alerts with their delivery status")
    listing.add_argument(
        "--open", action="store_true", help="only alerts nobody has acknowledged"
    )
    listing.set_defaults(run=_cmd_list)


def _cmd_deliver(args: argparse.Namespace) -> int:
    from governance.bootstrap import prepare_store
    from governance.cli import _say
    from governance.operations.delivery import deliver_pending
    from governance.settings import load_settings

    settings = load_settings()
    engine, policy = prepare_store(settings)
    try:
        report = deliver_pending(engine, settings, policy)
    finally:
        engine.dispose()
    for outcome in report.outcomes:
        _say(outcome.describe())
    _say(
        f"{len(report.sent)} sent, {len(report.retrying)} to retry, "
        f"{len(report.given_up)} given up."
    )
    return EXIT_CHECK_FAILED if report.given_up else EXIT_OK


def _cmd_list(args: argparse.Namespace) -> int:
    from governance.cli import _engine, _say
    from governance.operations.alerts import list_alerts

    engine = _engine()
    try:
        alerts = list_alerts(engine, open_only=args.open)
    finally:
        engine.dispose()
    if not alerts:
        _say("No open alerts." if args.open else "No alerts.")
    for alert in alerts:
        raised = alert.raised_at.strftime("%Y-%m-%d %H:%M")
        _say(
            f"#{alert.id}  {raised}  {alert.severity:<8} {alert.kind:<18} "
            f"{alert.status:<12} {_one_line(alert.title)}  (for {alert.role_titles})"
        )
        for delivery in alert.deliveries:
            error = f": {_one_line(delivery.last_error)}" if delivery.last_error else ""
            _say(
                f"      {delivery.channel} {delivery.status}, "
                f"{delivery.attempts} attempt(s){error}"
            )
    return EXIT_OK


def _one_line(text: str) -> str:
    return " ".join(text.split())
