from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import precision_score, recall_score, roc_auc_score

from governance.demo.leads import DRIFT_MONTHS, read_delta
from governance.demo.training import (
    LEAD_SCORING,
    LICENCE_RENEWAL,
    DemoVersion,
    decision_threshold,
    train_demo_models,
)
from governance.errors import ConflictError, InvalidInputError
from governance.policy import Policy

REQUIRED_TAGS = (
    "decision_threshold",
    "features",
    "target",
    "sensitive_features",
    "algorithm",
    "data_source",
    "data_version",
)


def test_decision_threshold_balances_precision_and_recall() -> None:
    y_true = np.array([0, 0, 1, 1])
    scores = np.array([0.1, 0.4, 0.35, 0.8])

    threshold = decision_threshold(y_true, scores)

    y_pred = (scores >= threshold).astype(int)
    assert threshold == pytest.approx(0.4)
    assert precision_score(y_true, y_pred) == recall_score(y_true, y_pred) == 0.5


@pytest.mark.parametrize(
    ("y_true", "scores"),
    [
        pytest.param([1, 1, 1], [0.2, 0.5, 0.9], id="one-class"),
        pytest.param([0, 1, 1], [0.2, 0.5], id="length-mismatch"),
    ],
)
def test_decision_threshold_rejects_bad_input(y_true: list, scores: list) -> None:
    with pytest.raises(InvalidInputError, match="both classes"):
        decision_threshold(np.array(y_true), np.array(scores))


def test_training_refuses_a_registry_that_has_the_demo_models(
    mlflow_uri: str, tmp_path: Path
) -> None:
    from mlflow import MlflowClient

    MlflowClient(tracking_uri=mlflow_uri).create_registered_model(LEAD_SCORING)

    with pytest.raises(ConflictError, match="lead-scoring"):
        train_demo_models(
            tracking_uri=mlflow_uri,
            data_dir=tmp_path / "data",
            seed=1,
            end=datetime.date(2025, 6, 15),
        )
    assert not (tmp_path / "data").exists()


def _by_key(versions: list[DemoVersion]) -> dict[tuple[str, str], DemoVersion]:
    return {(v.model_name, v.version): v for v in versions}


@pytest.mark.slow
def test_demo_registers_the_expected_versions(demo_versions: list[DemoVersion]) -> None:
    summary = [(v.model_name, v.version, v.algorithm) for v in demo_versions]

    assert summary == [
        (LEAD_SCORING, "1", "logistic_regression"),
        (LEAD_SCORING, "2", "hist_gradient_boosting"),
        (LEAD_SCORING, "3", "hist_gradient_boosting"),
        (LICENCE_RENEWAL, "1", "logistic_regression"),
        (LICENCE_RENEWAL, "2", "hist_gradient_boosting"),
    ]


@pytest.mark.slow
def test_registered_versions_carry_tags_description_and_signature(
    demo_versions: list[DemoVersion], demo_tracking_uri: str
) -> None:
    from mlflow import MlflowClient
    from mlflow.models import get_model_info

    client = MlflowClient(
        tracking_uri=demo_tracking_uri, registry_uri=demo_tracking_uri
    )
    for demo in demo_versions:
        version = client.get_model_version(demo.model_name, demo.version)
        run = client.get_run(demo.run_id)

        assert version.run_id == demo.run_id
        assert version.description == demo.description
        assert set(REQUIRED_TAGS) <= set(version.tags)
        assert all(run.data.tags[k] == version.tags[k] for k in REQUIRED_TAGS)
        assert version.tags["features"] == ",".join(demo.features)
        assert version.tags["target"] == demo.target
        assert float(version.tags["decision_threshold"]) == pytest.approx(
            demo.decision_threshold, abs=1e-6
        )
        assert (
            run.data.params["decision_threshold"] == version.tags["decision_threshold"]
        )
        assert int(version.tags["data_version"]) == demo.data_version
        assert run.data.metrics["auc"] == pytest.approx(demo.metrics["auc"])
        assert {"auc", "precision", "recall", "f1"} <= set(run.data.metrics)
        assert get_model_info(demo.model_uri).signature is not None
        assert client.get_registered_model(demo.model_name).description


@pytest.mark.slow
def test_experiments_keep_artifacts_beside_the_store(
    demo_versions: list[DemoVersion], demo_tracking_uri: str, demo_home: Path
) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=demo_tracking_uri)
    root = (demo_home / "mlflow" / "artifacts").as_uri()

    for name in (LEAD_SCORING, LICENCE_RENEWAL):
        location = client.get_experiment_by_name(name).artifact_location
        assert location == f"{root}/{name}"
    assert any((demo_home / "mlflow" / "artifacts" / LEAD_SCORING).rglob("MLmodel"))


@pytest.mark.slow
def test_no_model_uses_pii(demo_versions: list[DemoVersion]) -> None:
    for demo in demo_versions:
        assert not set(demo.pii_columns) & set(demo.features)


@pytest.mark.slow
def test_splits_are_parquet_files_from_the_delta_table(
    demo_versions: list[DemoVersion], policy: Policy
) -> None:
    demo = _by_key(demo_versions)[(LEAD_SCORING, "2")]
    train = pd.read_parquet(demo.train_path)
    current = pd.read_parquet(demo.current_path)
    table_path = Path(demo.data_source.removeprefix("file://"))

    snapshot = read_delta(table_path, version=demo.data_version)

    assert len(train) >= policy.data_standards.min_training_rows
    assert demo.data_version == read_delta_last_version(table_path) - DRIFT_MONTHS
    assert set(train["lead_id"]) <= set(snapshot["lead_id"])
    assert snapshot["created_at"].max() < current["created_at"].min()


def read_delta_last_version(path: Path) -> int:
    from deltalake import DeltaTable

    return DeltaTable(str(path)).version()


@pytest.fixture
def allow_model_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    # MLflow 3 refuses to deserialize any model, skops included, unless told to.
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")


@pytest.mark.slow
@pytest.mark.usefixtures("allow_model_loading")
@pytest.mark.parametrize(
    "key",
    [
        pytest.param((LEAD_SCORING, "1"), id="lead-v1"),
        pytest.param((LEAD_SCORING, "2"), id="lead-v2"),
        pytest.param((LEAD_SCORING, "3"), id="lead-v3"),
        pytest.param((LICENCE_RENEWAL, "2"), id="renewal-v2"),
    ],
)
def test_logged_metrics_match_the_loaded_model(
    demo_versions: list[DemoVersion], demo_tracking_uri: str, key: tuple[str, str]
) -> None:
    import mlflow

    demo = _by_key(demo_versions)[key]
    test = pd.read_parquet(demo.test_path)
    mlflow.set_tracking_uri(demo_tracking_uri)

    model = mlflow.sklearn.load_model(demo.model_uri)
    scores = model.predict_proba(test[list(demo.features)])[:, 1]
    y_pred = (scores >= demo.decision_threshold).astype(int)

    assert roc_auc_score(test[demo.target], scores) == pytest.approx(
        demo.metrics["auc"]
    )
    assert precision_score(test[demo.target], y_pred) == pytest.approx(
        demo.metrics["precision"]
    )
    assert recall_score(test[demo.target], y_pred) == pytest.approx(
        demo.metrics["recall"]
    )


@pytest.mark.slow
@pytest.mark.usefixtures("allow_model_loading")
def test_pyfunc_loads_and_predicts_on_current(
    demo_versions: list[DemoVersion], demo_tracking_uri: str
) -> None:
    import mlflow

    demo = _by_key(demo_versions)[(LEAD_SCORING, "2")]
    current = pd.read_parquet(demo.current_path)
    mlflow.set_tracking_uri(demo_tracking_uri)

    predictions = mlflow.pyfunc.load_model(demo.model_uri).predict(
        current[list(demo.features)]
    )

    assert len(predictions) == len(current)
    assert set(np.unique(predictions)) == {0, 1}


@pytest.mark.slow
def test_gradient_boosting_meets_the_standards(
    demo_versions: list[DemoVersion], policy: Policy
) -> None:
    demo = _by_key(demo_versions)[(LEAD_SCORING, "2")]

    assert demo.metrics["auc"] >= policy.performance.min_auc
    assert demo.metrics["precision"] >= policy.performance.min_precision
    assert demo.metrics["recall"] >= policy.performance.min_recall
    for feature in demo.sensitive_features:
        assert (
            demo.metrics[f"demographic_parity_difference_{feature}"]
            < policy.fairness.max_demographic_parity_difference
        )


@pytest.mark.slow
def test_baseline_falls_short_of_precision_and_recall(
    demo_versions: list[DemoVersion], policy: Policy
) -> None:
    demo = _by_key(demo_versions)[(LEAD_SCORING, "1")]

    assert demo.metrics["auc"] >= policy.performance.min_auc
    assert demo.metrics["precision"] < policy.performance.min_precision


@pytest.mark.slow
@pytest.mark.usefixtures("allow_model_loading")
def test_model_with_sensitive_features_shows_the_disparity(
    demo_versions: list[DemoVersion], demo_tracking_uri: str, policy: Policy
) -> None:
    import mlflow
    from fairlearn.metrics import demographic_parity_difference

    demo = _by_key(demo_versions)[(LEAD_SCORING, "3")]
    test = pd.read_parquet(demo.test_path)
    mlflow.set_tracking_uri(demo_tracking_uri)

    model = mlflow.sklearn.load_model(demo.model_uri)
    scores = model.predict_proba(test[list(demo.features)])[:, 1]
    y_pred = (scores >= demo.decision_threshold).astype(int)
    difference = demographic_parity_difference(
        test[demo.target], y_pred, sensitive_features=test["nationality_region"]
    )

    assert {"nationality_region", "gender"} <= set(demo.features)
    assert difference > policy.fairness.max_demographic_parity_difference
    assert difference == pytest.approx(
        demo.metrics["demographic_parity_difference_nationality_region"]
    )
    assert demo.metrics["auc"] >= policy.performance.min_auc
