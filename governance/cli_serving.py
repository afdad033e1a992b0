"""Commands for shadow and canary evidence.

``python -m governance serving evidence --model NAME --version V --log PATH``
computes the evidence of the version's current rollout step from the serving
platform's prediction log, stores it, prints it, and exits 1 when it breaches
the policy, so a CI/CD pipeline can stop the promotion on it.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

EXIT_OK, EXIT_CHECK_FAILED = 0, 1


def add_commands(commands: Any) -> None:
    """Add this area's commands to the ``python -m governance`` parser."""
    serving = commands.add_parser(
        "serving", help="shadow and canary evidence from prediction logs"
    )
    actions = serving.add_subparsers(dest="serving_command", required=True)
    evidence = actions.add_parser(
        "evidence",
        help="compute and store the evidence of a version's current rollout step",
    )
    evidence.add_argument("--model", required=True)
    evidence.add_argument("--version", required=True)
    evidence.add_argument(
        "--log", required=True, help="prediction log: CSV, Parquet or Delta (path@vN)"
    )
    evidence.add_argument(
        "--baseline",
        help="shadow only: version to compare with (default: the one in production)",
    )
    evidence.add_argument(
        "--json", action="store_true", help="print one JSON object (for CI/CD gates)"
    )
    evidence.add_argument(
        "--as", dest="as_user", help="acting username (default: GOVERNANCE_USER)"
    )
    evidence.set_defaults(run=_cmd_evidence)


def _cmd_evidence(args: argparse.Namespace) -> int:
    import json

    from governance.bootstrap import prepare_store
    from governance.cli import _actor
    from governance.operations.serving import (
        compute_serving_evidence,
        get_serving_evidence,
        summary_lines,
        version_id_of,
    )
    from governance.settings import load_settings

    engine, policy = prepare_store(load_settings())
    try:
        evidence_id = compute_serving_evidence(
            engine,
            actor_id=_actor(engine, args.as_user),
            policy=policy,
            version_id=version_id_of(engine, args.model, args.version),
            log_reference=args.log,
            baseline_version=args.baseline,
        )
        stored = get_serving_evidence(engine, evidence_id)
    finally:
        engine.dispose()
    if args.json:
        sys.stdout.write(json.dumps(stored.to_dict(), indent=2) + "\n")
    else:
        sys.stdout.write("\n".join(summary_lines(stored)) + "\n")
    return EXIT_OK if stored.passed else EXIT_CHECK_FAILED
