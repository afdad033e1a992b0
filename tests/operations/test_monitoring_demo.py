"""The demo's twelve production months of lead-scoring v2, monitored in the build."""

import pandas as pd
import pytest
from sqlmodel import select

from governance.bootstrap import prepare_store
from governance.operations.monitoring import (
    log_location,
    monitored_versions,
    monitored_windows,
)
from governance.operations.prediction_logs import read_prediction_log
from governance.operations.retraining import requests_of_model
from governance.store import read_session
from governance.tables import ModelVersion

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo")]


@pytest.fixture(scope="module")
def demo(demo_world):
    engine, policy = prepare_store(demo_world)
    yield demo_world, engine, policy
    engine.dispose()


def test_the_twelve_months_are_stored_with_their_measurements(demo):
    settings, engine, _ = demo

    [(version_id, version, stage)] = monitored_versions(engine, "lead-scoring")
    windows = monitored_windows(engine, version_id)
    location = log_location(engine, "lead-scoring")
    log = read_prediction_log(location)

    assert (version, stage) == ("2", "production")
    assert location.startswith(str(settings.home / "demo"))
    assert len(windows) == 12
    assert [w.label for w in windows] == sorted(
        log.frame["timestamp"]
        .dt.tz_convert(None)
        .dt.to_period("M")
        .astype(str)
        .unique()
    )
    assert all(w.rows == w.outcome_rows > 0 for w in windows)
    assert all(w.auc is not None for w in windows)
    assert sum(w.rows for w in windows) == len(log.frame)


def test_drift_creeps_in_and_fires_near_the_end(demo):
    _, engine, policy = demo
    [(version_id, _, _)] = monitored_versions(engine, "lead-scoring")
    windows = monitored_windows(engine, version_id)
    worst = [max(w.psi.values()) for w in windows]
    retrain = policy.drift.psi_retrain

    first_fired = next(i for i, value in enumerate(worst) if value >= retrain)

    assert max(worst[:6]) < policy.drift.psi_warn
    assert worst[6] < worst[7] < worst[8] < retrain
    assert first_fired >= 9


def test_a_retraining_request_is_open_with_the_drift_triggers(demo):
    _, engine, _ = demo

    [request] = requests_of_model(engine, "lead-scoring")

    with read_session(engine) as session:
        production = session.exec(
            select(ModelVersion).where(ModelVersion.stage == "production")
        ).one()
    kinds = {trigger.kind for trigger in request.triggers}
    assert request.status == "open"
    assert request.model_version_id == production.id
    assert "data_drift" in kinds
    assert request.reason.startswith("Data drift in ")
    assert not any(trigger.kind == "fairness_violation" for trigger in request.triggers)
    assert pd.Series([t.window_label for t in request.triggers]).notna().all()
