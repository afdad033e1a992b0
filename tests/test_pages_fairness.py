"""The fairness page on the assessed demo (AppTest), against the stored evidence."""

import json
import shutil

import numpy as np
import pytest

from governance.evidence import PREDICTIONS_FILE, load_predictions
from governance.review import find_feature
from tests.app_support import open_view

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo")]

MODEL = "lead-scoring"


def _open(version):
    return open_view("views/fairness.py", version=version)


def _spec(app, index):
    return json.loads(app.get("plotly_chart")[index].proto.spec)


def test_fairness_chart_has_one_bar_per_group_and_the_stored_disparity(stored_v3):
    app = _open("3")
    app.selectbox(key="fairness_feature").select("nationality_region").run()

    feature = find_feature(stored_v3.evidence, "nationality_region")
    groups = [group["group"] for group in feature["groups"]]
    chart = _spec(app, 0)
    assert [trace["name"] for trace in chart["data"]] == [
        "Selection rate",
        "True positive rate",
        "False positive rate",
    ]
    for trace in chart["data"]:
        assert [label.split(" (n=")[0] for label in trace["x"]] == groups
    assert chart["data"][0]["y"] == [g["selection_rate"] for g in feature["groups"]]
    parity, odds = app.metric[0], app.metric[1]
    assert parity.value == f"{feature['demographic_parity']['value']:.4f}"
    assert odds.value == f"{feature['equalized_odds']['value']:.4f}"


def test_v3_disparity_on_nationality_region_is_named_and_fails(stored_v3):
    app = _open("3")

    feature = find_feature(stored_v3.evidence, "nationality_region")
    parity = feature["demographic_parity"]
    assert app.selectbox(key="fairness_feature").value == "nationality_region"
    assert parity["value"] > 0.1
    message = app.error[0].value
    assert f"{parity['value']:.3f} is not below the policy maximum 0.1" in message
    assert f"between {parity['lowest_group']} and {parity['highest_group']}" in message
    assert app.metric[0].delta == "fail: maximum 0.1"
    assert app.metric[1].delta == "above: maximum 0.1"  # an indicator, not a verdict
    summary = app.dataframe[0].value.set_index("Sensitive feature")
    assert summary.loc["nationality_region", "Result"] == "fail"
    assert summary.loc["gender", "Result"] == "pass"


def _hand_disparities(stored, feature, threshold, min_group_size):
    frame = load_predictions(stored, split="test")
    selected = frame["y_score"].to_numpy() >= threshold
    actual = frame["y_true"].to_numpy(dtype=int) == 1
    rates = {"selection": [], "tpr": [], "fpr": []}
    for _, rows in frame.groupby(frame[feature].astype(str)).groups.items():
        if len(rows) < min_group_size:
            continue
        chosen, positive = selected[rows], actual[rows]
        rates["selection"].append(chosen.mean())
        rates["tpr"].append(chosen[positive].mean() if positive.any() else 0.0)
        rates["fpr"].append(chosen[~positive].mean() if (~positive).any() else 0.0)
    spread = {name: np.ptp(values) for name, values in rates.items()}
    return spread["selection"], max(spread["tpr"], spread["fpr"]), rates["selection"]


@pytest.mark.parametrize("threshold", [0.3, 0.7], ids=["lower", "higher"])
def test_threshold_slider_recomputes_as_numpy_does(stored_v3, threshold):
    app = _open("3")
    stored_dpd = app.metric[2].value

    app.slider[0].set_value(threshold).run()

    assert not app.exception, app.exception
    min_size = stored_v3.evidence["fairness"]["min_group_size"]
    dpd, eod, selection = _hand_disparities(
        stored_v3, "nationality_region", threshold, min_size
    )
    assert app.metric[2].value == f"{dpd:.4f}"
    assert app.metric[3].value == f"{eod:.4f}"
    assert app.metric[2].value != stored_dpd
    at_threshold = _spec(app, 2)["data"][0]["y"]
    assert at_threshold == pytest.approx(selection, abs=1e-12)
    curve = _spec(app, 1)
    assert threshold in [shape["x0"] for shape in curve["layout"]["shapes"]]


def test_at_the_registered_threshold_the_slider_reproduces_the_evidence(stored_v3):
    app = _open("3")

    feature = find_feature(stored_v3.evidence, "nationality_region")
    assert app.metric[2].value == f"{feature['demographic_parity']['value']:.4f}"
    assert app.metric[3].value == f"{feature['equalized_odds']['value']:.4f}"


def test_intersection_shows_groups_too_small_to_judge(stored_v3):
    app = _open("3")

    name = next(
        f["name"]
        for f in stored_v3.evidence["fairness"]["features"]
        if " & " in f["name"]
    )
    app.selectbox(key="fairness_feature").select(name).run()

    feature = find_feature(stored_v3.evidence, name)
    small = [g for g in feature["groups"] if g["is_too_small"]]
    assert small
    warning = app.main.warning[0].value
    assert warning.startswith(f"{len(small)} of {len(feature['groups'])} groups")
    assert f"{small[0]['group']} (n={small[0]['count']})" in warning
    labels = _spec(app, 0)["data"][0]["x"]
    assert sum(label.endswith(", too small)") for label in labels) == len(small)
    table = app.dataframe[1].value
    assert int(table["Too small to judge"].sum()) == len(small)


def test_a_version_never_assessed_gets_guidance(demo_home):
    app = _open("1")

    assert "has not been assessed yet" in app.info[0].value
    assert not app.get("plotly_chart")


def test_missing_predictions_are_shown_plainly(stored_v3):
    predictions = stored_v3.artifact(PREDICTIONS_FILE)
    hidden = predictions.with_suffix(".hidden")
    shutil.move(predictions, hidden)
    try:
        app = _open("3")
    finally:
        shutil.move(hidden, predictions)

    assert f"The artifact {PREDICTIONS_FILE}" in app.error[-1].value
    assert "Assess lead-scoring version 3 again" in app.error[-1].value
