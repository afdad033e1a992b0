"""The data quality page (AppTest): on the assessed demo, and on failing evidence."""

import pytest
import streamlit as st

from governance.access import stable_user_id
from governance.bootstrap import prepare_store
from governance.demo.world import seed_people
from governance.evidence import latest_evidence
from governance.inventory import register_version
from governance.settings import load_settings
from tests.app_support import open_view
from tests.store_support import store_assessment

MODEL = "lead-scoring"


def _clear_caches():
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def stored_v3(assessed_demo, monkeypatch):
    monkeypatch.setenv("GOVERNANCE_HOME", str(assessed_demo.home))
    monkeypatch.delenv("GOVERNANCE_DATABASE_URL", raising=False)
    engine, _ = prepare_store(assessed_demo)
    stored = latest_evidence(engine, MODEL, "3")
    engine.dispose()
    _clear_caches()
    yield stored
    _clear_caches()


def _open(version, model=MODEL):
    return open_view("views/data_quality.py", model=model, version=version)


def _metrics(app):
    return {metric.label: (metric.value, metric.proto.delta) for metric in app.metric}


@pytest.mark.slow
@pytest.mark.xdist_group("demo")
def test_data_quality_shows_the_stored_standards(stored_v3):
    data = stored_v3.evidence["data_standards"]

    app = _open("3")

    metrics = _metrics(app)
    assert metrics["Quality score"] == (
        f"{data['quality_score']:.2%}",
        "pass (minimum 95%)",
    )
    assert metrics["Training rows"] == (f"{data['rows']:,}", "pass (minimum 10,000)")
    assert metrics["Training data age"] == (
        f"{data['training_age_days']:.0f} days",
        "pass (maximum 183 days)",
    )
    assert metrics["PII used as features"] == ("none", "pass (none allowed)")
    pii = app.dataframe[0].value
    assert set(pii["Column"]) == {"full_name", "email", "phone", "lead_id"}
    assert set(pii["Result"]) == {"listed"}


@pytest.mark.slow
@pytest.mark.xdist_group("demo")
def test_a_version_never_assessed_gets_guidance(stored_v3):
    app = _open("1")

    assert "has not been assessed yet" in app.info[0].value
    assert not app.metric


def test_failing_data_is_shown_with_its_thresholds(tmp_path, monkeypatch):
    monkeypatch.setenv("GOVERNANCE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("GOVERNANCE_DATABASE_URL", raising=False)
    engine, policy = prepare_store(load_settings())
    seed_people(engine)
    spec = {"target": "churned", "features": ["visits", "email"], "pii_columns": []}
    version_id = register_version(
        engine,
        actor_id=stable_user_id("omar"),
        policy=policy,
        name="churn",
        version="1",
        model_uri="models:/churn/1",
        owner_id=stable_user_id("layla"),
        data_spec=spec,
    )
    evidence = {
        "data_standards": {
            "rows": 800,
            "quality_score": 0.9,
            "completeness": 0.8,
            "validity": 1.0,
            "uniqueness": 0.9,
            "consistency": 0.9,
            "missing_share": {"visits": 0.4, "email": 0.0},
            "pii_in_features": ["email"],
            "pii_elsewhere": [],
            "pii_findings": [
                {"column": "email", "kind": "email", "reason": "name", "share": 1.0}
            ],
            "standards": [
                {
                    "name": "data_quality_score",
                    "value": 0.9,
                    "threshold": 0.95,
                    "passed": False,
                },
                {
                    "name": "training_rows",
                    "value": 800,
                    "threshold": 10000,
                    "passed": False,
                },
                {
                    "name": "training_data_age_days",
                    "value": "not assessable",
                    "threshold": 183,
                    "passed": False,
                    "detail": "No timestamp column was given.",
                },
                {
                    "name": "pii_in_features",
                    "value": "email",
                    "threshold": "none",
                    "passed": False,
                },
            ],
        }
    }
    store_assessment(engine, policy, version_id, evidence=evidence, passed=False)
    engine.dispose()
    _clear_caches()

    app = _open("1", model="churn")

    metrics = _metrics(app)
    assert metrics["Quality score"] == ("90.00%", "fail (minimum 95%)")
    assert metrics["Training rows"] == ("800", "fail (minimum 10,000)")
    assert metrics["Training data age"] == ("not assessable", "fail (maximum 183 days)")
    assert metrics["PII used as features"] == ("email", "fail (none allowed)")
    assert "No timestamp column was given." in [
        caption.value for caption in app.caption
    ]
    pii = app.dataframe[0].value
    assert pii.to_dict("records") == [
        {
            "Column": "email",
            "Kind": "email",
            "Found by": "column name",
            "Used as feature": "yes",
            "Result": "fail",
        }
    ]
    _clear_caches()
