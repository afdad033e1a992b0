"""Builders for monitoring tests: a version in production and its prediction logs.

The model is a hand-made one: its score is a logistic function of ``visits``, so a
log can be drawn with any mix of features, outcomes and drift.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sqlmodel import select

from governance.assessment.drift import profile_reference
from governance.assessment.performance import assess_performance
from governance.policy import Policy
from governance.store import write_session
from governance.tables import ModelVersion
from governance.workflow_tables import WorkflowState
from tests.store_support import store_assessment
from tests.workflow.conftest import register

FEATURES = ["visits", "company_size", "region"]
PRODUCTION_SINCE = datetime(2026, 1, 1, tzinfo=UTC)


def leads(
    rng: np.random.Generator, n: int, *, visits_mean: float = 5.0
) -> pd.DataFrame:
    """Feature rows; a larger ``visits_mean`` drifts ``visits`` (and the scores)."""
    return pd.DataFrame(
        {
            "visits": rng.gamma(visits_mean, 1.0, n),
            "company_size": rng.choice(["small", "medium", "large"], n),
            "region": rng.choice(["north", "south"], n),
        }
    )


def scores_of(frame: pd.DataFrame) -> np.ndarray:
    """The hand-made model: more visits, higher score."""
    return 1.0 / (1.0 + np.exp(-(frame["visits"].to_numpy(float) - 5.0) / 2.0))


def month_of_predictions(
    rng: np.random.Generator,
    month: datetime,
    n: int,
    *,
    version: str = "1",
    visits_mean: float = 5.0,
    with_outcomes: bool = True,
) -> pd.DataFrame:
    """``n`` production predictions spread over the month starting at ``month``."""
    frame = leads(rng, n, visits_mean=visits_mean)
    score = scores_of(frame)
    seconds = rng.integers(0, 27 * 86_400, n)
    frame.insert(
        0, "timestamp", [month + pd.Timedelta(seconds=int(s)) for s in seconds]
    )
    frame.insert(0, "model_version", version)
    frame["score"] = score
    frame["outcome"] = (
        (rng.random(n) < score).astype(float) if with_outcomes else np.nan
    )
    return frame


def write_log(path: Path, *months: pd.DataFrame) -> str:
    """Write the months as one CSV prediction log and return its path."""
    pd.concat(months, ignore_index=True).to_csv(path, index=False)
    return str(path)


def version_in_production(
    engine, people, policy: Policy, tmp_path: Path, *, version: str = "1"
) -> int:
    """lead-scoring ``version`` in production since `PRODUCTION_SINCE`, assessed.

    The assessment stores the test performance (the baseline), the training
    data's reference profile and the test-set scores, as the assessment job does.
    """
    version_id = register(engine, people, policy, version=version)
    rng = np.random.default_rng(1)
    train, test = leads(rng, 5000), leads(rng, 2000)
    folder = tmp_path / f"evidence-{version}"
    folder.mkdir()
    pd.DataFrame({"split": "test", "y_score": scores_of(test)}).to_parquet(
        folder / "predictions.parquet"
    )
    profile = profile_reference(train[FEATURES], bins=policy.drift.psi_bins)
    test_scores = scores_of(test)
    outcomes = (rng.random(len(test)) < test_scores).astype(int)
    measured = assess_performance(outcomes, test_scores, threshold=0.5, policy=policy)
    evidence = {
        "performance": {"metrics": measured.metrics},
        "drift": {"reference_profile": profile.to_dict()},
    }
    store_assessment(
        engine, policy, version_id, evidence=evidence, artifact_dir=str(folder)
    )
    put_in_production(engine, version_id)
    return version_id


def put_in_production(engine, version_id: int, *, since=PRODUCTION_SINCE) -> None:
    """Move a version to production directly (the rollout is tested elsewhere)."""
    with write_session(engine) as session:
        session.get(ModelVersion, version_id).stage = "production"
        state = session.get(WorkflowState, version_id)
        if state is None:
            session.add(
                WorkflowState(model_version_id=version_id, stage_entered_at=since)
            )
        else:
            state.stage_entered_at = since


def versions_in_stage(engine, stage: str) -> list[int]:
    """Ids of the versions in ``stage``."""
    from governance.store import read_session

    with read_session(engine) as session:
        return list(
            session.exec(
                select(ModelVersion.id).where(ModelVersion.stage == stage)
            ).all()
        )
