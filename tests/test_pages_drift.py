"""The drift page (AppTest): on the assessed demo, and on hand-made evidence."""

import json
import shutil

import pytest
import streamlit as st

from governance.access import stable_user_id
from governance.bootstrap import prepare_store
from governance.demo.world import seed_people
from governance.evidence import evidently_report_path
from governance.inventory import register_version
from governance.settings import load_settings
from tests.app_support import open_view
from tests.store_support import store_assessment

MODEL = "lead-scoring"


def _clear_caches():
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def hand_made(tmp_path, monkeypatch):
    """A private store with one version whose evidence the test writes."""
    monkeypatch.setenv("GOVERNANCE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("GOVERNANCE_DATABASE_URL", raising=False)
    engine, policy = prepare_store(load_settings())
    seed_people(engine)
    version_id = register_version(
        engine,
        actor_id=stable_user_id("omar"),
        policy=policy,
        name="churn",
        version="1",
        model_uri="models:/churn/1",
        owner_id=stable_user_id("layla"),
        data_spec={"target": "churned", "features": ["visits"]},
    )

    def store_evidence(evidence):
        store_assessment(engine, policy, version_id, evidence=evidence)

    _clear_caches()
    yield store_evidence
    engine.dispose()
    _clear_caches()


def _open(version, model=MODEL):
    return open_view("views/drift.py", model=model, version=version)


def _spec(app, key):
    charts = app.get("plotly_chart")
    chart = next(chart for chart in charts if chart.proto.id.endswith(key))
    return json.loads(chart.proto.spec)


@pytest.mark.slow
@pytest.mark.xdist_group("demo")
@pytest.mark.parametrize("version", ["2", "3"])
def test_drift_page_flags_the_features_the_demo_drifted(demo_home, version):
    app = _open(version)

    assert app.error[0].value.startswith("Retraining triggered: lead_source PSI")
    assert "budget_aed PSI" in app.error[0].value
    bars = _spec(app, "drift_psi")["data"][0]
    assert bars["y"][-2:] == ["budget_aed", "lead_source"]


@pytest.mark.slow
@pytest.mark.xdist_group("demo")
def test_psi_shown_equals_the_stored_evidence(stored_v3):
    drift = stored_v3.evidence["drift"]

    app = _open("3")

    bars = _spec(app, "drift_psi")["data"][0]
    assert dict(zip(bars["y"], bars["x"], strict=True)) == drift["psi"]
    assert app.metric[0].value == f"{drift['prediction_psi']:.3f}"
    heatmap = _spec(app, "drift_windows")["data"][0]
    assert heatmap["x"] == sorted(drift["windows"])
    for row, feature in zip(heatmap["z"], heatmap["y"], strict=True):
        assert row == [drift["windows"][month][feature] for month in heatmap["x"]]
    assert len(app.get("download_button")) == 1


@pytest.mark.slow
@pytest.mark.xdist_group("demo")
def test_choosing_a_feature_shows_its_stored_distribution(stored_v3):
    distribution = stored_v3.evidence["drift"]["distributions"]["budget_aed"]
    app = _open("3")

    app.selectbox(key="drift_feature").select("budget_aed").run()

    reference, current = _spec(app, "drift_distribution")["data"]
    assert reference["x"] == distribution["labels"]
    assert reference["y"] == distribution["reference_share"]
    assert current["y"] == distribution["current_share"]


@pytest.mark.slow
@pytest.mark.xdist_group("demo")
def test_a_version_never_assessed_gets_guidance(demo_home):
    app = _open("1")

    assert "has not been assessed yet" in app.info[0].value
    assert not app.get("plotly_chart")


@pytest.mark.slow
@pytest.mark.xdist_group("demo")
def test_a_missing_evidently_report_is_shown_plainly(stored_v3):
    report = evidently_report_path(stored_v3)
    hidden = report.with_name("hidden.html")
    shutil.move(report, hidden)
    try:
        app = _open("3")
    finally:
        shutil.move(hidden, report)

    missing = [w.value for w in app.main.warning if "evidently_drift.html" in w.value]
    assert len(missing) == 1
    assert "is missing" in missing[0]
    assert not app.get("download_button")


def test_no_current_data_is_shown_plainly(hand_made):
    hand_made({"drift": {"psi": {}, "flags": {}, "assessed": False}})

    app = _open("1", model="churn")

    assert "registered without current data" in app.info[0].value
    assert not app.get("plotly_chart")


def test_an_empty_month_of_current_data_is_named(hand_made):
    windows = {"2026-09": {"visits": 0.02}, "2026-11": {"visits": 0.3}}
    hand_made(
        {
            "drift": {
                "assessed": True,
                "psi": {"visits": 0.12},
                "flags": {"visits": "warn"},
                "psi_warn": 0.1,
                "psi_retrain": 0.25,
                "features_to_retrain": [],
                "prediction_psi": 0.05,
                "windows": windows,
                "distributions": {},
            },
            "evidently": {"artifact": None, "summary": None},
        }
    )

    app = _open("1", model="churn")

    assert app.success[0].value.startswith("No feature drifted past")
    assert app.main.warning[0].value == "Moderate shift (PSI > 0.1): visits 0.120."
    assert (
        app.main.warning[1].value
        == "No current rows in 2026-10: those months are empty."
    )
    assert "No distribution of visits was stored" in app.info[0].value
    assert "has no evidently report" in app.main.warning[2].value
    assert _spec(app, "drift_windows")["data"][0]["z"] == [[0.02, None, 0.3]]
