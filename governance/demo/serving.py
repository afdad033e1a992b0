"""The demo's shadow and canary prediction logs and their evidence.

Lead-scoring version 2 is the demo's first version in production, so no governed
version serves the traffic it would be compared with. The demo's serving
platform therefore runs version 1, the logistic-regression baseline the team
scored leads with before the console, on production traffic while version 2 is
in shadow and on canary steps: the shadow evidence pairs version 2 with version
1 on the same requests (named as the baseline), and each canary slice is
compared with the version 1 traffic beside it. That shows agreement, score PSI
and both versions' performance, which an outcomes-only comparison would not.

Scores are generated, not predicted: a latent propensity per request drives the
outcome and both versions' scores (version 1 with more noise, so lower AUC), and
each version selects the same share of leads at its registered threshold. The
generator is seeded and writes about 30,000 rows in well under a second;
loading the demo's models to score the log would take longer and show the same.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from governance.policy import Policy
from governance.settings import Settings

logger = logging.getLogger(__name__)

SELECTED_SHARE = 0.3
"""Share of leads each generated version selects at its own threshold."""
NOISE = {"candidate": 0.3, "baseline": 0.42}
"""Spread of each version's error around the latent propensity."""
SOURCES = ("website", "referral", "event", "partner")


@dataclass(frozen=True)
class TrafficWindow:
    """Requests served between ``start`` and ``end`` during one rollout step.

    ``canary_share`` None is shadow: every request is scored by both versions.
    Otherwise each request goes to the candidate with that probability.
    """

    start: datetime
    end: datetime
    requests: int
    canary_share: float | None = None


def generate_rollout_log(
    *,
    candidate: str,
    baseline: str | None,
    thresholds: Mapping[str, float],
    windows: Sequence[TrafficWindow],
    seed: int,
    outcomes_before: datetime | None = None,
    candidate_noise: float = NOISE["candidate"],
) -> pd.DataFrame:
    """A serving platform's prediction log over a rollout, deterministic by seed.

    Parameters
    ----------
    candidate, baseline
        The version rolled out and the version serving production (None when
        nothing does: shadow and the rest of canary traffic then go unlogged).
    thresholds
        Each version's registered decision threshold.
    windows
        The traffic of each step.
    seed
        Seed of the generator.
    outcomes_before
        Predictions at or after this time have no outcome yet; all do by default.
    candidate_noise
        Spread of the candidate's error; raise it to make a worse candidate.

    Returns
    -------
    pandas.DataFrame
        Columns of the log contract (``governance.operations.prediction_logs``).
    """
    rng = np.random.default_rng(seed)
    parts = []
    for index, window in enumerate(windows):
        parts.extend(
            _window_rows(
                rng, index, window, candidate, baseline, thresholds, candidate_noise
            )
        )
    frame = pd.concat(parts, ignore_index=True).sort_values("timestamp")
    if outcomes_before is not None:
        frame.loc[frame["timestamp"] >= outcomes_before, "outcome"] = np.nan
    return frame.reset_index(drop=True)


def _window_rows(
    rng: np.random.Generator,
    index: int,
    window: TrafficWindow,
    candidate: str,
    baseline: str | None,
    thresholds: Mapping[str, float],
    candidate_noise: float,
) -> list[pd.DataFrame]:
    count = window.requests
    span = (window.end - window.start).total_seconds()
    offsets = np.sort(rng.uniform(0, span, count))
    times = pd.to_datetime(window.start) + pd.to_timedelta(offsets, unit="s")
    propensity = rng.normal(size=count)
    outcome = (rng.uniform(size=count) < _sigmoid(4.0 * propensity - 2.2)).astype(float)
    base = pd.DataFrame(
        {
            "request_id": [f"r{index}-{i}" for i in range(count)],
            "timestamp": times,
            "outcome": outcome,
            "lead_source": rng.choice(SOURCES, size=count),
            "engagement": np.round(propensity + rng.normal(0, 0.5, count), 3),
        }
    )
    noisy = {
        candidate: propensity + rng.normal(0, candidate_noise, count),
        "baseline": propensity + rng.normal(0, NOISE["baseline"], count),
    }
    rows = []
    if window.canary_share is None:
        rows.append(_scored(base, candidate, "shadow", noisy[candidate], thresholds))
        if baseline is not None:
            rows.append(
                _scored(base, baseline, "production", noisy["baseline"], thresholds)
            )
        return rows
    to_canary = rng.uniform(size=count) < window.canary_share
    rows.append(
        _scored(base, candidate, "canary", noisy[candidate], thresholds)[to_canary]
    )
    if baseline is not None:
        served = _scored(base, baseline, "production", noisy["baseline"], thresholds)
        rows.append(served[~to_canary])
    return rows


def _scored(
    base: pd.DataFrame,
    version: str,
    traffic: str,
    latent: np.ndarray,
    thresholds: Mapping[str, float],
) -> pd.DataFrame:
    # Shift each version's scores so the same share of leads clears its threshold.
    cut = np.quantile(latent, 1.0 - SELECTED_SHARE)
    threshold = thresholds[version]
    logit = np.log(threshold / (1.0 - threshold))
    scores = _sigmoid(3.0 * (latent - cut) + logit)
    return base.assign(
        model_version=version, traffic=traffic, score=np.round(scores, 6)
    )


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-values))


def rollout_log_path(settings: Settings, model: str, version: str) -> Path:
    """Where the demo keeps the prediction log of one version's rollout."""
    return settings.home / "demo" / "serving" / f"{model}-{version}.parquet"


def write_rollout_log(frame: pd.DataFrame, path: Path) -> Path:
    """Write a generated log as Parquet, as the serving platform would."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)
    return path


def rollout_windows(
    moments: Sequence[tuple[str, int | None, datetime]],
    *,
    requests_per_day: int,
) -> list[TrafficWindow]:
    """One traffic window per shadow and canary step, up to the next step's time."""
    windows = []
    for (step, share, start), (_, _, end) in zip(moments, moments[1:], strict=False):
        if step not in ("shadow", "canary"):
            continue
        days = (end - start) / timedelta(days=1)
        windows.append(
            TrafficWindow(
                start=start,
                end=end,
                requests=int(requests_per_day * days),
                canary_share=None if share is None else share / 100,
            )
        )
    return windows


def seed_serving(settings: Settings, engine: Engine, policy: Policy) -> str:
    """Report the rollout evidence the sign-off history stored; nothing to add.

    The history (``governance.demo.history``) writes lead-scoring version 2's
    log and computes its evidence while it rolls the version out, because the
    promotion gate asks for it at each step.
    """
    from sqlmodel import select

    from governance.operations.serving import serving_evidence_of
    from governance.store import read_session
    from governance.tables import ModelVersion

    del policy
    path = rollout_log_path(settings, "lead-scoring", "2")
    with read_session(engine) as session:
        version = session.exec(
            select(ModelVersion).where(
                ModelVersion.model_name == "lead-scoring", ModelVersion.version == "2"
            )
        ).first()
    if version is None or version.id is None or not path.exists():
        return (
            "No rollout log: the demo's sign-off history has not rolled out a version."
        )
    stored = serving_evidence_of(engine, version.id)
    passed = sum(item.passed for item in stored)
    return (
        f"Rollout evidence of lead-scoring 2: {len(stored)} computations from "
        f"{path.name} ({passed} passed the policy)."
    )
