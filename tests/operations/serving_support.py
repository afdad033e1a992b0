"""Prediction logs and evidence for tests that take rollout steps."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from governance.demo.serving import (
    TrafficWindow,
    generate_rollout_log,
    write_rollout_log,
)
from governance.operations.serving import (
    compute_serving_evidence,
    decision_thresholds,
)


def passing_log(
    folder: Path,
    *,
    candidate: str,
    start: dt.datetime,
    end: dt.datetime,
    share: int | None = None,
    baseline: str | None = None,
    thresholds: dict[str, float],
    requests: int = 2000,
) -> Path:
    """A generated log of one step's window whose evidence passes the policy."""
    if share is not None:
        # Enough requests for the canary slice to clear the policy's minimum rows.
        requests = max(requests, 400 * 100 // share)
    window = TrafficWindow(start, end, requests, None if share is None else share / 100)
    frame = generate_rollout_log(
        candidate=candidate,
        baseline=baseline,
        thresholds=thresholds,
        windows=[window],
        seed=3,
    )
    return write_rollout_log(frame, folder / f"log-{uuid.uuid4().hex[:8]}.parquet")


def record_passing_evidence(
    engine,
    actor_id: str,
    policy,
    version_id: int,
    folder: Path,
    *,
    candidate: str,
    start: dt.datetime,
    end: dt.datetime,
    share: int | None = None,
    baseline: str | None = None,
    model: str = "lead-scoring",
) -> int:
    """Write a passing log for the window and store its evidence at ``end``."""
    path = passing_log(
        folder,
        candidate=candidate,
        start=start,
        end=end,
        share=share,
        baseline=baseline,
        thresholds=decision_thresholds(engine, model),
    )
    return compute_serving_evidence(
        engine,
        actor_id=actor_id,
        policy=policy,
        version_id=version_id,
        log_reference=str(path),
        now=end,
    )
