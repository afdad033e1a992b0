"""The demo's twelve monthly production batches, monitored month by month.

lead-scoring version 2 serves twelve months of fresh leads, ending with the month
before the demo's end. The first half is stable; from the seventh month a growing
share of the leads comes from the social-media campaign of
``governance.demo.leads`` (smaller budgets, another lead-source mix), until the
campaign is all there is in the last three months. The batches are scored by the
demo's own version 2 model, written as a prediction log with the outcomes, and
configured as the model's log; monitoring then scores the twelve months, the drift
trigger fires near the end and a retraining request is opened.
"""

from __future__ import annotations

import logging
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine
from sqlmodel import select

from governance.access import stable_user_id
from governance.demo import leads as lead_data
from governance.policy import Policy
from governance.settings import Settings
from governance.store import read_session
from governance.tables import ModelVersion

logger = logging.getLogger(__name__)

MODEL, VERSION = "lead-scoring", "2"
MONTHS = 12
LEADS = 48_000
SEED_OFFSET = 1_000
# Share of each month's leads that come from the campaign, oldest month first:
# stable for six months, then creeping in, then the whole campaign.
CAMPAIGN_SHARE = (0, 0, 0, 0, 0, 0, 0.15, 0.3, 0.45, 1.0, 1.0, 1.0)
ENGINEER = "priya"


def seed_production(settings: Settings, engine: Engine, policy: Policy) -> str:
    """Write v2's production log, configure it, and monitor the twelve months."""
    from governance.operations.monitoring import run_monitoring, set_log_location

    started = time.perf_counter()
    version = _production_version(engine)
    if version is None:
        return "No lead-scoring version in production: monitoring not seeded."
    log = production_log(settings, version, seed=_seed(version))
    path = settings.home / "demo" / "prediction_logs" / f"{MODEL}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    log.to_parquet(path, index=False)

    engineer = stable_user_id(ENGINEER)
    set_log_location(engine, actor_id=engineer, model_name=MODEL, location=str(path))
    report = run_monitoring(settings, engine, policy, actor_id=engineer, model=MODEL)
    fired = sum(len(item.triggers) for item in report.versions)
    scored = sum(len(item.scored) for item in report.versions)
    logger.info("Production monitoring seeded in %.1f s", time.perf_counter() - started)
    return (
        f"Monitoring: {scored} monthly windows of {MODEL} {VERSION} scored, "
        f"{fired} trigger(s) fired."
    )


def _production_version(engine: Engine) -> ModelVersion | None:
    with read_session(engine) as session:
        return session.exec(
            select(ModelVersion).where(
                ModelVersion.model_name == MODEL,
                ModelVersion.version == VERSION,
                ModelVersion.stage == "production",
            )
        ).first()


def _seed(version: ModelVersion) -> int:
    """The demo's seed, from the registration's data (same build, same batches)."""
    sha = ((version.data_spec or {}).get("train") or {}).get("sha256") or "0"
    return int(sha[:8], 16) + SEED_OFFSET


def production_log(
    settings: Settings, version: ModelVersion, *, seed: int, end: datetime | None = None
) -> pd.DataFrame:
    """Twelve months of v2's production predictions with outcomes, as a log."""
    end = end or datetime.now(UTC)
    batches = monthly_batches(seed=seed, end=end.date().replace(day=1))
    spec = version.data_spec or {}
    features = list(spec["features"])
    scores = _scores(settings, version, batches[features])
    log = pd.DataFrame(
        {
            "model_version": VERSION,
            "timestamp": batches[lead_data.TIMESTAMP],
            "request_id": batches[lead_data.ID_COLUMN],
            "score": scores,
            "outcome": batches[lead_data.TARGET].astype(float),
        }
    )
    for name in [*features, *spec.get("sensitive_features", [])]:
        log[name] = batches[name].to_numpy()
    return log


def monthly_batches(*, seed: int, end: date) -> pd.DataFrame:
    """Leads of the twelve months before ``end``, the campaign share growing.

    The generator puts its campaign in its last three months; in the months
    before, a growing share (`CAMPAIGN_SHARE`) of the leads are campaign leads
    (profile, contact and recorded outcome) moved to that month.
    """
    leads = lead_data.generate_leads(seed=seed, end=end, n_leads=LEADS, months=MONTHS)
    month = leads[lead_data.TIMESTAMP].dt.tz_convert(None).dt.to_period("M")
    months = sorted(month.unique())
    campaign = leads[month.isin(months[-lead_data.DRIFT_MONTHS :])]
    rng = np.random.default_rng(seed)
    profile = [
        c for c in leads.columns if c not in (lead_data.TIMESTAMP, lead_data.ID_COLUMN)
    ]
    for index, share in enumerate(CAMPAIGN_SHARE[: -lead_data.DRIFT_MONTHS]):
        rows = np.flatnonzero((month == months[index]).to_numpy())
        swapped = rows[rng.random(len(rows)) < share]
        donors = rng.choice(len(campaign), size=len(swapped), replace=False)
        leads.iloc[swapped, [leads.columns.get_loc(c) for c in profile]] = (
            campaign.iloc[donors][profile].to_numpy()
        )
    return leads


def _scores(
    settings: Settings, version: ModelVersion, features: pd.DataFrame
) -> np.ndarray:
    """Scores of the demo's own v2 model, loaded as the assessment job loads it.

    Only the demo's own model, trained by this build, is loaded here.
    """
    from governance.assessment.runner import load_model

    with tempfile.TemporaryDirectory() as folder:
        estimator, _ = load_model(settings, version.model_uri, Path(folder))
        return np.asarray(estimator.predict_proba(features)[:, 1], dtype=float)
