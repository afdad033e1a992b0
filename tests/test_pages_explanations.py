"""The explanations page on the assessed demo (AppTest), against the stored SHAP."""

import json
import math
import shutil

import pytest

from governance.evidence import (
    SHAP_FOLDER,
    load_predictions,
    load_shap,
)
from governance.review import MASK
from tests.app_support import open_view

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo")]

MODEL = "lead-scoring"


def _open(version):
    return open_view("views/explanations.py", version=version)


def _spec(app, index):
    return json.loads(app.get("plotly_chart")[index].proto.spec)


def test_waterfall_adds_up_to_the_stored_model_output(stored_v3):
    app = _open("3")
    explanation = load_shap(stored_v3)
    row_id = explanation.row_ids[4]

    app.text_input(key="explanations_search").input(row_id.lower()).run()

    assert app.selectbox(key="explanations_row").options == [row_id]
    steps = _spec(app, 2)["data"][0]
    assert steps["type"] == "waterfall"
    assert steps["x"][0] == pytest.approx(explanation.base_value)
    assert sum(steps["x"][:-1]) == pytest.approx(steps["x"][-1], abs=1e-9)
    predictions = load_predictions(stored_v3, split="test").set_index("row_id")
    stored_score = predictions.loc[row_id, "y_score"]
    assert explanation.output_space == "log_odds"
    assert 1 / (1 + math.exp(-steps["x"][-1])) == pytest.approx(stored_score, abs=1e-9)
    assert app.metric[0].value == f"{stored_score:.4f}"


def test_global_importance_and_dependence_follow_the_stored_values(stored_v3):
    app = _open("3")
    explanation = load_shap(stored_v3)
    importance = explanation.global_importance()

    app.selectbox(key="explanations_feature").select("nationality_region").run()

    bars = _spec(app, 0)["data"][0]
    assert bars["y"][::-1] == list(importance.index)
    assert bars["x"][::-1] == pytest.approx(list(importance.to_numpy()))
    points = _spec(app, 1)["data"][0]
    position = explanation.feature_names.index("nationality_region")
    assert points["y"] == pytest.approx(list(explanation.values[:, position]))
    assert len(points["x"]) == len(explanation.row_ids)


def test_search_by_feature_value_finds_matching_leads(stored_v3):
    app = _open("3")
    explanation = load_shap(stored_v3)
    source = str(explanation.feature_values["lead_source"].iloc[0])

    app.text_input(key="explanations_search").input(source).run()

    options = app.selectbox(key="explanations_row").options
    values = explanation.feature_values.loc[options]
    assert all(
        source.lower() in " ".join(map(str, row)).lower() + row_id.lower()
        for row_id, row in values.iterrows()
    )
    assert len(options) > 1


def test_search_without_a_match_says_so(stored_v3):
    app = _open("3")

    app.text_input(key="explanations_search").input("no such lead").run()

    assert "No explained lead matches 'no such lead'" in app.info[0].value


def test_pii_columns_are_named_as_masked(stored_v3):
    app = _open("3")

    caption = next(c.value for c in app.caption if "are masked" in c.value)
    assert "full_name, email, phone, lead_id" in caption
    table = app.dataframe[0].value
    assert MASK not in set(table["Value"])  # no PII among the model's features


def test_missing_shap_artifact_is_shown_plainly(stored_v3):
    folder = stored_v3.artifact(SHAP_FOLDER)
    hidden = folder.with_name("shap-hidden")
    shutil.move(folder, hidden)
    try:
        app = _open("3")
    finally:
        shutil.move(hidden, folder)

    assert f"The artifact {SHAP_FOLDER} of assessment" in app.error[0].value


def test_a_version_never_assessed_gets_guidance(demo_home):
    app = _open("1")

    assert "has not been assessed yet" in app.info[0].value
