"""The shadow and canary page, and the evidence on the deployment page (AppTest)."""

import datetime as dt
import pickle

import pytest

from governance.operations.serving import serving_evidence_of
from governance.workflow import advance_rollout, rollout_status
from tests.app_support import DEMO_IDS as DEMO
from tests.app_support import open_page, open_view
from tests.operations.serving_support import passing_log, record_passing_evidence
from tests.workflow.conftest import register
from tests.workflow.test_rollout import approve_version

SERVING, DEPLOYMENT = "views/serving.py", "views/deployment.py"
NOW = dt.datetime.now(dt.UTC)
SHADOW_AT = NOW - dt.timedelta(days=9)


@pytest.fixture
def in_shadow(app_store, tmp_path):
    """lead-scoring 1 approved, in shadow for nine days, without evidence."""
    engine, policy = app_store
    folder = tmp_path / "artifacts"
    folder.mkdir()
    (folder / "model.pkl").write_bytes(pickle.dumps({"weights": [0.1]}))
    version_id = approve_version(engine, DEMO, policy, folder)
    for name, at in (
        ("staging", SHADOW_AT - dt.timedelta(days=1)),
        ("shadow", SHADOW_AT),
    ):
        advance_rollout(
            engine,
            actor_id=DEMO["engineer"],
            policy=policy,
            version_id=version_id,
            step=name,
            now=at,
        )
    return version_id


def _click(app, key):
    app.button(key=key).click().run()
    assert not app.exception, app.exception
    return app


def test_the_serving_page_says_when_there_is_no_evidence(app_store, in_shadow):
    app = open_view(SERVING, version="1")

    assert app.info[0].value.startswith(
        "No shadow or canary evidence for lead-scoring version 1 yet."
    )


@pytest.fixture
def shadow_evidence(app_store, in_shadow, tmp_path):
    """Passing shadow evidence of lead-scoring 1; returns its id."""
    engine, policy = app_store
    return record_passing_evidence(
        engine,
        DEMO["engineer"],
        policy,
        in_shadow,
        tmp_path,
        candidate="1",
        start=SHADOW_AT,
        end=NOW - dt.timedelta(hours=1),
    )


def test_the_serving_page_shows_evidence_with_its_charts(
    app_store, in_shadow, shadow_evidence
):
    engine, _ = app_store
    evidence_id = shadow_evidence

    app = open_view(SERVING, version="1")

    table = app.dataframe[0].value
    assert list(table["Id"]) == [evidence_id]
    assert list(table["Step"]) == ["shadow"]
    assert list(table["Passed"]) == ["✅ passed"]
    assert app.success[0].value == "shadow: every policy bound holds."
    # A first rollout: nothing in production, so outcomes only.
    assert app.info[0].value.startswith("No version is in production yet")
    stored = serving_evidence_of(engine, in_shadow)[0]
    charts = [chart.proto.spec for chart in app.get("plotly_chart")]
    assert len(charts) == 3
    assert "Score distributions" in charts[0]
    assert (
        f"{stored.metrics['performance']['version 1 (shadow)']['auc']:.3f}" in charts[2]
    )


def test_the_serving_page_opens_on_the_newest_version_with_evidence(
    app_store, shadow_evidence
):
    engine, policy = app_store
    register(engine, DEMO, policy, version="2")

    app = open_page("priya", SERVING)

    assert app.selectbox(key="serving_version").options == ["2", "1"]
    assert app.selectbox(key="serving_version").value == "1"
    assert list(app.dataframe[0].value["Step"]) == ["shadow"]
    # A version carried over from another page still wins.
    app = open_view(SERVING, version="2")
    assert app.selectbox(key="serving_version").value == "2"
    assert app.info[0].value.startswith(
        "No shadow or canary evidence for lead-scoring version 2 yet."
    )


def test_a_breached_evidence_names_the_bound(app_store, in_shadow, tmp_path):
    engine, policy = app_store
    path = passing_log(
        tmp_path,
        candidate="1",
        start=SHADOW_AT,
        end=NOW - dt.timedelta(hours=1),
        thresholds={"1": 0.5},
        requests=50,
    )
    from governance.operations.serving import compute_serving_evidence

    compute_serving_evidence(
        engine,
        actor_id=DEMO["engineer"],
        policy=policy,
        version_id=in_shadow,
        log_reference=str(path),
    )

    app = open_view(SERVING, version="1")

    assert app.error[0].value == "shadow breaches the policy:"
    assert app.main.text[0].value == (
        "• 50 version 1 (shadow) rows with an outcome is below "
        f"deployment.evidence.min_rows {policy.deployment.evidence.min_rows}"
    )


def test_the_deployment_page_computes_and_shows_the_evidence_of_the_step(
    app_store, in_shadow, tmp_path
):
    engine, policy = app_store
    app = open_page("priya", DEPLOYMENT)
    assert "No evidence for shadow yet: the next step needs it." in [
        item.value for item in app.warning
    ]
    app = _click(app, "deployment_step")
    assert app.error[0].value.startswith(
        "canary-10 needs passing shadow evidence for shadow"
    )

    log = passing_log(
        tmp_path,
        candidate="1",
        start=SHADOW_AT,
        end=NOW - dt.timedelta(hours=1),
        thresholds={"1": 0.5},
    )
    app.text_input(key="deployment_log").input(str(log))
    app = _click(app, "deployment_evidence")

    assert app.success[0].value == f"shadow evidence computed from {log}."
    assert app.success[2].value.startswith(
        "lead-scoring version 1, shadow evidence against the outcomes: PASSED"
    )
    app = _click(app, "deployment_step")
    assert dict(rollout_status(engine, policy, in_shadow))["canary-10"] is not None


def test_the_deployment_page_shows_why_a_log_is_refused(app_store, in_shadow, tmp_path):
    app = open_page("priya", DEPLOYMENT)
    app.text_input(key="deployment_log").input(str(tmp_path / "missing.csv"))

    app = _click(app, "deployment_evidence")

    assert app.error[0].value.startswith("No dataset at")


def test_evidence_is_not_offered_to_roles_without_it(app_store, in_shadow):
    app = open_page("layla", DEPLOYMENT)

    assert "deployment_evidence" not in [button.key for button in app.button]


@pytest.mark.slow
@pytest.mark.xdist_group("demo")
def test_the_demo_rollout_shows_shadow_against_version_1_and_each_canary(demo_home):
    elsewhere = open_view(SERVING, version="3")
    assert elsewhere.info[0].value.endswith("Version(s) 2 have some: choose one above.")

    app = open_view(SERVING, version="2")

    table = app.dataframe[0].value
    assert list(table["Step"]) == ["canary-100", "canary-50", "canary-10", "shadow"]
    assert set(table["Passed"]) == {"✅ passed"}

    app.selectbox(key="serving_evidence").select_index(3).run()
    assert not app.exception, app.exception
    assert [metric.label for metric in app.metric] == [
        "Decision agreement",
        "Score PSI",
    ]
    charts = [chart.proto.spec for chart in app.get("plotly_chart")]
    assert "version 1 (production)" in charts[0]
    assert "Decision agreement" in charts[1]
