"""The model overview on the assessed demo (AppTest): risk, standards, comparison."""

import json

import pytest

from governance.bootstrap import prepare_store
from governance.evidence import latest_evidence
from tests.app_support import open_view

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo")]

MODEL = "lead-scoring"


@pytest.fixture
def evidence(demo_home):
    engine, _ = prepare_store(demo_home)
    found = {v: latest_evidence(engine, MODEL, v).evidence for v in ("2", "3")}
    engine.dispose()
    return found


def _open(version):
    return open_view("views/model.py", version=version)


def _table(app, column):
    return next(frame.value for frame in app.dataframe if column in frame.value.columns)


def test_overview_shows_five_risk_factors_with_their_drivers(evidence):
    app = _open("3")

    risk = evidence["3"]["risk"]
    bars = json.loads(app.get("plotly_chart")[1].proto.spec)["data"][0]
    assert len(bars["x"]) == 5
    assert bars["x"][::-1] == [risk["factors"][name] for name in risk["factors"]]
    table = _table(app, "What drove it")
    assert list(table["Factor"]) == [
        "Data quality",
        "Performance",
        "Bias",
        "Stability",
        "Security",
    ]
    assert list(table["What drove it"]) == list(risk["drivers"].values())
    level = next(info.value for info in app.info if "risk: approval by" in info.value)
    assert f"**{risk['level']}** risk" in level


def test_overview_lists_every_standard_with_value_threshold_and_result(evidence):
    app = _open("3")

    table = _table(app, "Result")
    standards = evidence["3"]["standards"]
    assert list(table["Standard"]) == [item["name"] for item in standards]
    assert list(table["Threshold"]) == [str(item["threshold"]) for item in standards]
    row = table.set_index("Standard").loc[
        "demographic_parity_difference (nationality_region)"
    ]
    assert row["Result"] == "fail"


def test_overview_puts_versions_on_a_timeline(demo_home):
    app = _open("3")

    timeline = json.loads(app.get("plotly_chart")[0].proto.spec)["data"][0]
    assert timeline["text"] == ["v1", "v2", "v3"]
    assert list(app.dataframe[0].value["Version"]) == ["3", "2", "1"]


def test_two_versions_side_by_side(evidence):
    app = _open("3")

    assert app.selectbox(key="overview_first").value == "2"
    assert app.selectbox(key="overview_second").value == "3"
    table = _table(app, "v3 result").set_index("Standard")
    name = "demographic_parity_difference (nationality_region)"
    assert table.loc[name, "v2 result"] == "pass"
    assert table.loc[name, "v3 result"] == "fail"
    metrics = _table(app, "Change").set_index("Measure")
    auc = [evidence[v]["performance"]["metrics"]["auc"] for v in ("2", "3")]
    assert metrics.loc["auc", "Change"] == pytest.approx(auc[1] - auc[0], abs=1e-4)


def test_a_version_never_assessed_shows_no_risk(demo_home):
    app = _open("1")

    assert any("has not been assessed yet" in info.value for info in app.info)
    assert not any(header.value == "Risk factors" for header in app.subheader)
