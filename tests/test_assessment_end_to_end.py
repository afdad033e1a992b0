"""Registration and assessment end to end: the demo's verdicts, the README's worked
example through the CLI, and bad input that must leave nothing behind (slow)."""

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from sqlmodel import func, select

from governance.bootstrap import prepare_store
from governance.cli import main
from governance.evidence import latest_evidence, load_predictions
from governance.settings import load_settings
from governance.store import read_session
from governance.tables import Assessment, ModelVersion

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo")]
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def demo_engine(assessed_demo):
    engine, _ = prepare_store(assessed_demo)
    yield engine
    engine.dispose()


def _standard(evidence, name):
    return next(item for item in evidence["standards"] if item["name"] == name)


def test_demo_v2_meets_every_standard(demo_engine):
    evidence = latest_evidence(demo_engine, "lead-scoring", "2").evidence

    assert evidence["passed"] is True
    assert all(item["passed"] is not False for item in evidence["standards"])
    assert evidence["risk"]["unassessed"] == ["security"]
    assert evidence["risk"]["level"] == "high"
    assert evidence["risk"]["required_approvers"] == [
        "model_owner",
        "compliance_officer",
        "security_officer",
    ]


def test_demo_v3_fails_the_bias_standard_naming_the_group(demo_engine):
    evidence = latest_evidence(demo_engine, "lead-scoring", "3").evidence

    region = _standard(evidence, "demographic_parity_difference (nationality_region)")
    assert evidence["passed"] is False
    assert region["passed"] is False
    assert region["value"] > 0.1
    parity = next(
        feature["demographic_parity"]
        for feature in evidence["fairness"]["features"]
        if feature["name"] == "nationality_region"
    )
    assert parity["lowest_group"] == "Africa"
    assert "Africa" in region["detail"]


def test_stored_evidence_matches_fairlearn_and_sklearn_on_the_stored_scores(
    demo_engine,
):
    from fairlearn.metrics import demographic_parity_difference
    from sklearn.metrics import precision_score, roc_auc_score

    stored = latest_evidence(demo_engine, "lead-scoring", "3")
    test = load_predictions(stored, split="test")
    predicted = (test["y_score"] >= stored.evidence["decision_threshold"]).astype(int)
    metrics = stored.evidence["performance"]["metrics"]

    assert metrics["auc"] == pytest.approx(
        roc_auc_score(test["y_true"], test["y_score"]), abs=1e-12
    )
    assert metrics["precision"] == pytest.approx(
        precision_score(test["y_true"], predicted), abs=1e-12
    )
    dpd = _standard(
        stored.evidence, "demographic_parity_difference (nationality_region)"
    )["value"]
    expected = demographic_parity_difference(
        test["y_true"], predicted, sensitive_features=test["nationality_region"]
    )
    assert dpd == pytest.approx(expected, abs=1e-9)


def test_drift_flags_the_features_the_demo_drifted(demo_engine):
    from governance.demo.leads import DRIFTED_FEATURES

    drift = latest_evidence(demo_engine, "lead-scoring", "2").evidence["drift"]

    assert set(drift["features_to_retrain"]) == set(DRIFTED_FEATURES)
    assert all(
        drift["psi"][name] < 0.1
        for name in drift["psi"]
        if name not in DRIFTED_FEATURES
    )
    assert set(drift["windows"])
    assert set(drift["distributions"]) == set(drift["psi"])


# The README's worked example, through the command line.


@pytest.fixture(scope="module")
def churn_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("churn")
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("GOVERNANCE_HOME", str(home))
    monkeypatch.delenv("GOVERNANCE_DATABASE_URL", raising=False)
    # mlflow.set_tracking_uri and set_registry_uri write these variables, so tests
    # that ran earlier in this process leave them pointing at their own stores.
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "churn_model", EXAMPLES / "churn_model.py"
    )
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    example.main(["--out", str(home / "churn"), "--rows", "16000"])
    from governance.demo.world import seed_people

    engine, _ = prepare_store(load_settings())
    seed_people(engine)
    engine.dispose()
    yield home
    monkeypatch.undo()


def _register_args(home, **overrides):
    data = home / "churn"
    args = {
        "--name": "churn",
        "--model-uri": "models:/churn/1",
        "--train": str(data / "train.csv"),
        "--test": str(data / "test.parquet"),
        "--current": f"{data / 'current'}@v0",
        "--target": "churned",
        "--sensitive": "gender,age_band",
        "--pii": "email",
        "--timestamp": "signup_date",
        "--owner": "layla",
        "--as": "omar",
    }
    args.update(overrides)
    return [
        "register",
        *[part for pair in args.items() for part in pair if part is not None],
    ]


def _counts(home):
    engine, _ = prepare_store(load_settings({"GOVERNANCE_HOME": str(home)}))
    with read_session(engine) as session:
        versions = session.exec(select(func.count()).select_from(ModelVersion)).one()
        assessments = session.exec(select(func.count()).select_from(Assessment)).one()
    engine.dispose()
    evidence = home / "evidence"
    files = (
        sorted(p for p in evidence.rglob("*") if p.is_file())
        if evidence.exists()
        else []
    )
    return versions, assessments, files


def test_worked_example_registers_and_assesses_through_the_cli(churn_home, capsys):
    assert main(_register_args(churn_home)) == 0
    out = capsys.readouterr().out
    assert "Registered churn version 1" in out
    assert "current: 2400 rows" in out
    assert "(Delta version 0)" in out

    code = main(
        ["assess", "--model", "churn", "--version", "1", "--json", "--as", "omar"]
    )

    summary = json.loads(capsys.readouterr().out)
    assert code == (0 if summary["passed"] else 1)
    assert {
        "model",
        "version",
        "passed",
        "standards",
        "metrics",
        "fairness",
        "drift",
        "risk",
    } <= set(summary)
    assert set(summary["risk"]["factors"]) == {
        "data_quality",
        "performance",
        "bias",
        "stability",
        "security",
    }
    assert set(summary["fairness"]) == {"gender", "age_band", "gender & age_band"}
    assert set(summary["drift"]["psi"]) == {
        "tenure_months",
        "monthly_charges",
        "support_calls",
        "contract",
    }
    assert {item["name"] for item in summary["standards"]} >= {
        "auc",
        "precision",
        "recall",
    }


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"--target": "outcome"}, "no target column 'outcome'"),
        ({"--target": "support_calls"}, "must be binary"),
        ({"--sensitive": "religion"}, "lacks the sensitive column(s) religion"),
        (
            {"--model-uri": "models:/churn/99"},
            "MLflow has no model at models:/churn/99",
        ),
        ({"--train": "README.md"}, "neither CSV"),
        ({"--test": "/nonexistent/test.csv"}, "No dataset at /nonexistent/test.csv"),
    ],
    ids=[
        "missing-target",
        "non-binary-target",
        "missing-sensitive",
        "unknown-uri",
        "not-a-table",
        "missing-file",
    ],
)
def test_bad_registration_exits_2_and_writes_nothing(
    churn_home, capsys, overrides, message
):
    if overrides.get("--train") == "README.md":
        overrides = {"--train": str(Path(__file__).resolve().parents[1] / "README.md")}
    before = _counts(churn_home)

    code = main(_register_args(churn_home, **{"--name": "churn-bad", **overrides}))

    assert code == 2
    assert message in capsys.readouterr().err
    assert _counts(churn_home) == before


def _frame_variant(churn_home, name, change):
    frame = pd.read_parquet(churn_home / "churn" / "test.parquet")
    path = churn_home / "churn" / f"{name}.parquet"
    change(frame).to_parquet(path, index=False)
    return str(path)


def test_single_class_and_empty_current_are_refused(churn_home, capsys):
    one_class = _frame_variant(churn_home, "one-class", lambda f: f.assign(churned=0))
    empty = _frame_variant(churn_home, "empty", lambda f: f.iloc[:0])

    assert (
        main(_register_args(churn_home, **{"--name": "c1", "--test": one_class})) == 2
    )
    assert "single class" in capsys.readouterr().err
    assert main(_register_args(churn_home, **{"--name": "c2", "--current": empty})) == 2
    assert "current data is empty" in capsys.readouterr().err


def test_assessment_that_cannot_run_exits_2_and_leaves_no_evidence(churn_home, capsys):
    broken = _frame_variant(
        churn_home, "broken", lambda f: f.assign(monthly_charges="not a number")
    )
    assert (
        main(_register_args(churn_home, **{"--name": "churn-broken", "--test": broken}))
        == 0
    )
    before = _counts(churn_home)

    code = main(["assess", "--model", "churn-broken", "--version", "1", "--as", "omar"])

    assert code == 2
    assert "predict_proba failed on the test data" in capsys.readouterr().err
    assert _counts(churn_home) == before


def test_data_changed_after_registration_is_refused(churn_home, capsys):
    copy = churn_home / "churn" / "test-copy.parquet"
    shutil.copyfile(churn_home / "churn" / "test.parquet", copy)
    assert (
        main(
            _register_args(churn_home, **{"--name": "churn-moved", "--test": str(copy)})
        )
        == 0
    )
    pd.read_parquet(copy).iloc[:-1].to_parquet(copy, index=False)

    code = main(["assess", "--model", "churn-moved", "--version", "1", "--as", "omar"])

    assert code == 2
    assert "changed since the version was registered" in capsys.readouterr().err
