from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from governance.assessment.explain import (
    explain,
    load_explanation,
    save_explanation,
    shap_sample_index,
)
from governance.errors import InvalidInputError, NotFoundError

NUMERIC = ["income", "age", "tenure"]
CATEGORICAL = ["region", "channel"]
ROWS = 1500
SAMPLE = 200


def _shap():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import shap

    return shap


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    data = pd.DataFrame(
        {
            "income": rng.normal(50.0, 10.0, ROWS),
            "age": rng.integers(18, 80, ROWS).astype(float),
            "tenure": rng.exponential(3.0, ROWS),
            "region": rng.choice(["north", "south", "east"], ROWS),
            "channel": rng.choice(["web", "phone", "branch", "partner"], ROWS),
            "unused": rng.normal(size=ROWS),
        },
        index=pd.RangeIndex(ROWS, name="lead"),
    )
    signal = (
        0.15 * (data["income"] - 50.0)
        + 1.2 * (data["region"] == "north")
        - 0.8 * (data["channel"] == "partner")
        + 0.02 * (data["age"] - 50.0)
    )
    data["target"] = (signal + rng.logistic(size=ROWS) > 0).astype(int)
    return data


@pytest.fixture(scope="module")
def features(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns="target")


def _preprocess() -> ColumnTransformer:
    return ColumnTransformer(
        [
            ("num", StandardScaler(), NUMERIC),
            ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
        ]
    )


def _fit(estimator, frame: pd.DataFrame) -> Pipeline:
    pipeline = Pipeline([("prep", _preprocess()), ("model", estimator)])
    return pipeline.fit(frame.drop(columns="target"), frame["target"])


@pytest.fixture(scope="module")
def pipelines(frame: pd.DataFrame) -> dict[str, Pipeline]:
    return {
        "hist_gradient_boosting": _fit(
            HistGradientBoostingClassifier(max_iter=60, random_state=0), frame
        ),
        "logistic_regression": _fit(LogisticRegression(max_iter=1000), frame),
    }


@pytest.fixture(scope="module")
def sample(features: pd.DataFrame) -> pd.DataFrame:
    return features.iloc[shap_sample_index(features, rows=SAMPLE, seed=3)]


@pytest.fixture(scope="module")
def explanations(pipelines: dict[str, Pipeline], sample: pd.DataFrame) -> dict:
    return {
        name: explain(pipeline, sample, background_rows=SAMPLE)
        for name, pipeline in pipelines.items()
    }


# shap's permutation explainer compiles numba kernels on first use (10-20 s on a
# busy two-core machine), once per process.
PERMUTATION = pytest.mark.slow

MODELS = pytest.mark.parametrize(
    "name",
    ["hist_gradient_boosting", "logistic_regression"],
    ids=["hist_gradient_boosting", "logistic_regression"],
)


@MODELS
def test_explanation_is_additive_against_the_models_log_odds(
    name: str, pipelines: dict, explanations: dict, sample: pd.DataFrame
) -> None:
    explanation = explanations[name]

    rebuilt = explanation.base_value + explanation.values.sum(axis=1)

    np.testing.assert_allclose(
        rebuilt, pipelines[name].decision_function(sample), rtol=0, atol=1e-9
    )
    assert explanation.output_space == "log_odds"
    assert explanation.is_additive
    assert explanation.additivity_error <= 1e-9


@pytest.mark.parametrize(
    ("name", "method"),
    [("hist_gradient_boosting", "tree"), ("logistic_regression", "linear")],
    ids=["hist_gradient_boosting", "logistic_regression"],
)
def test_raw_feature_values_are_sums_of_shaps_column_values(
    name: str, method: str, pipelines: dict, explanations: dict, sample: pd.DataFrame
) -> None:
    shap = _shap()
    pipeline = pipelines[name]
    matrix = pipeline[:-1].transform(sample)
    if method == "tree":
        columns = shap.TreeExplainer(pipeline[-1]).shap_values(matrix)
    else:
        masker = shap.maskers.Independent(matrix, max_samples=len(matrix))
        columns = shap.LinearExplainer(pipeline[-1], masker).shap_values(matrix)
    # Output names read "num__income" or "cat__region_north".
    owners = [
        out.split("__")[1] if out.startswith("num__") else out[5:].rsplit("_", 1)[0]
        for out in pipeline[:-1].get_feature_names_out()
    ]

    expected = pd.DataFrame(columns, columns=owners).T.groupby(level=0).sum().T
    explanation = explanations[name]

    assert explanation.method == method
    assert explanation.feature_names == tuple(sample.columns)
    for feature in NUMERIC + CATEGORICAL:
        np.testing.assert_allclose(
            explanation.values[:, explanation.feature_names.index(feature)],
            expected[feature],
            rtol=1e-12,
            atol=1e-12,
        )


@MODELS
def test_a_feature_the_model_drops_contributes_nothing(
    name: str, explanations: dict
) -> None:
    explanation = explanations[name]

    unused = explanation.values[:, explanation.feature_names.index("unused")]

    assert np.all(unused == 0.0)


@pytest.mark.parametrize("output", ["default", "pandas"], ids=["arrays", "frames"])
def test_nested_pipelines_and_passthrough_columns_are_traced(
    output: str, frame: pd.DataFrame
) -> None:
    # "region_code" begins with "region_", so its one-hot columns also start with
    # the name of the other categorical feature.
    data = frame.assign(region_code=frame["region"].str[:1] + "1")
    data.loc[data.index[::7], "income"] = np.nan
    preprocess = ColumnTransformer(
        [
            (
                "num",
                Pipeline([("fill", SimpleImputer()), ("scale", StandardScaler())]),
                ["income", "age"],
            ),
            (
                "cat",
                Pipeline(
                    [
                        ("fill", SimpleImputer(strategy="most_frequent")),
                        ("encode", OneHotEncoder(sparse_output=False)),
                    ]
                ),
                ["region", "region_code", "channel"],
            ),
        ],
        remainder="passthrough",
    )
    if output == "pandas":
        preprocess.set_output(transform="pandas")
    features = data.drop(columns="target")
    pipeline = Pipeline(
        [("prep", preprocess), ("model", LogisticRegression(max_iter=2000))]
    ).fit(features, data["target"])
    rows = features.head(150)

    explanation = explain(pipeline, rows, background_rows=150)

    # Linear SHAP by hand: coef * (x - background mean), summed per raw feature.
    matrix = np.asarray(pipeline[:-1].transform(rows), dtype=float)
    columns = pipeline[-1].coef_[0] * (matrix - matrix.mean(axis=0))
    encoder = preprocess.named_transformers_["cat"]["encode"]
    owners = ["income", "age"]
    for name, levels in zip(
        ["region", "region_code", "channel"], encoder.categories_, strict=True
    ):
        owners += [name] * len(levels)
    owners += ["tenure", "unused"]
    expected = pd.DataFrame(columns, columns=owners).T.groupby(level=0).sum().T
    assert explanation.method == "linear"
    for feature in expected.columns:
        np.testing.assert_allclose(
            explanation.values[:, explanation.feature_names.index(feature)],
            expected[feature],
            atol=1e-10,
        )
    assert explanation.is_additive


def test_global_importance_is_mean_absolute_value_largest_first(
    explanations: dict,
) -> None:
    explanation = explanations["logistic_regression"]

    importance = explanation.global_importance()

    expected = np.abs(explanation.values).mean(axis=0)
    assert importance.to_dict() == pytest.approx(
        dict(zip(explanation.feature_names, expected, strict=True))
    )
    assert list(importance) == sorted(importance, reverse=True)
    assert importance.index[0] == "income"


def test_sample_index_is_deterministic_sorted_and_distinct(
    features: pd.DataFrame,
) -> None:
    first = shap_sample_index(features, rows=300, seed=11)
    again = shap_sample_index(features, rows=300, seed=11)
    other = shap_sample_index(features, rows=300, seed=12)

    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert len(np.unique(first)) == 300
    assert np.all(np.diff(first) > 0)
    assert first.min() >= 0
    assert first.max() < len(features)


def test_sample_index_takes_every_row_of_a_small_frame(features: pd.DataFrame) -> None:
    index = shap_sample_index(features.head(40), rows=100)

    np.testing.assert_array_equal(index, np.arange(40))


def test_sample_index_refuses_an_empty_sample(features: pd.DataFrame) -> None:
    with pytest.raises(InvalidInputError, match="at least one row"):
        shap_sample_index(features, rows=0)


def test_row_returns_that_rows_values_by_feature(
    explanations: dict, sample: pd.DataFrame
) -> None:
    explanation = explanations["hist_gradient_boosting"]
    row_id = str(sample.index[5])

    contributions = explanation.row(row_id)

    assert contributions.name == row_id
    assert tuple(contributions.index) == explanation.feature_names
    np.testing.assert_array_equal(contributions.to_numpy(), explanation.values[5])
    assert explanation.feature_values.loc[row_id, "region"] == sample.iloc[5]["region"]


def test_row_refuses_an_unknown_row_id(explanations: dict) -> None:
    with pytest.raises(InvalidInputError, match="not in the explained sample"):
        explanations["hist_gradient_boosting"].row("no-such-lead")


def test_given_row_ids_label_the_rows(
    pipelines: dict, sample: pd.DataFrame, explanations: dict
) -> None:
    ids = [f"lead-{index}" for index in range(len(sample))]

    explanation = explain(pipelines["logistic_regression"], sample, row_ids=ids)

    assert explanation.row_ids == tuple(ids)
    np.testing.assert_allclose(
        explanation.row("lead-0").to_numpy(),
        explanations["logistic_regression"].values[0],
    )


def test_saved_explanation_loads_back_equal(explanations: dict, tmp_path: Path) -> None:
    explanation = explanations["hist_gradient_boosting"]

    written = save_explanation(explanation, tmp_path / "shap")
    loaded = load_explanation(tmp_path / "shap")

    assert all(path.is_file() for path in written)
    np.testing.assert_array_equal(loaded.values, explanation.values)
    assert loaded.feature_names == explanation.feature_names
    assert loaded.row_ids == explanation.row_ids
    assert loaded.base_value == explanation.base_value
    assert loaded.output_space == explanation.output_space
    assert loaded.method == explanation.method
    assert loaded.additivity_error == explanation.additivity_error
    pd.testing.assert_frame_equal(loaded.feature_values, explanation.feature_values)
    assert loaded.to_dict() == explanation.to_dict()


def test_loading_needs_neither_shap_nor_sklearn(
    explanations: dict, tmp_path: Path
) -> None:
    save_explanation(explanations["logistic_regression"], tmp_path)
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from governance.assessment.explain import load_explanation\n"
        f"explanation = load_explanation(Path({str(tmp_path)!r}))\n"
        "print(explanation.global_importance().index[0])\n"
        "print(sorted({'shap', 'sklearn'} & set(sys.modules)))\n"
    )

    # One BLAS thread: on a loaded machine OpenBLAS can fail to start its thread
    # pool in a fresh interpreter and abort, which says nothing about the code.
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["income", "[]"]


def test_loading_a_missing_explanation_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="values.parquet"):
        load_explanation(tmp_path)


def test_to_dict_is_json(explanations: dict) -> None:
    explanation = explanations["hist_gradient_boosting"]

    summary = json.loads(json.dumps(explanation.to_dict()))

    assert summary["rows"] == SAMPLE
    assert summary["is_additive"] is True
    assert (
        summary["global_importance"][0]["feature"]
        == (explanation.global_importance().index[0])
    )


@PERMUTATION
def test_untraceable_preprocessing_falls_back_to_permutation(
    frame: pd.DataFrame,
) -> None:
    # A function transformer names no outputs, so columns cannot be traced back.
    numeric = frame[NUMERIC + ["target"]]
    pipeline = Pipeline(
        [("log", FunctionTransformer(np.log1p)), ("model", LogisticRegression())]
    ).fit(numeric[NUMERIC], numeric["target"])
    rows = numeric[NUMERIC].head(12)

    explanation = explain(pipeline, rows, background_rows=12)

    rebuilt = explanation.base_value + explanation.values.sum(axis=1)
    np.testing.assert_allclose(
        rebuilt, pipeline.predict_proba(rows)[:, 1], rtol=0, atol=1e-9
    )
    assert explanation.method == "permutation"
    assert explanation.output_space == "probability"
    assert explanation.base_value == pytest.approx(
        pipeline.predict_proba(rows)[:, 1].mean()
    )


@PERMUTATION
def test_permutation_keeps_categories_and_missing_values(
    frame: pd.DataFrame,
) -> None:
    # The fallback ordinal-encodes every column; decoding must rebuild the rows
    # exactly, missing values included, or the model's output would differ.
    rows = frame.drop(columns="target").head(10).copy()
    rows.loc[rows.index[::3], "income"] = np.nan
    model = _TableLookup().fit(rows, frame["target"].head(10))

    explanation = explain(model, rows, background_rows=10)

    rebuilt = explanation.base_value + explanation.values.sum(axis=1)
    np.testing.assert_allclose(rebuilt, model.predict_proba(rows)[:, 1], atol=1e-12)
    assert explanation.method == "permutation"


class _TableLookup:
    """A classifier scoring rows from a category and a possibly missing number."""

    classes_ = np.array([0, 1])

    def fit(self, features: pd.DataFrame, target: pd.Series) -> _TableLookup:
        return self

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        north = (features["region"] == "north").to_numpy(dtype=float)
        income = features["income"].fillna(0.0).to_numpy() / 100.0
        positive = 1.0 / (1.0 + np.exp(-(north + income - 0.5)))
        return np.column_stack([1.0 - positive, positive])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda rows: rows.iloc[0:0], "no rows"),
        (lambda rows: rows.drop(columns="income"), "lacks 1 column"),
    ],
    ids=["empty", "missing-column"],
)
def test_explain_refuses_bad_frames(
    change, message: str, pipelines: dict, sample: pd.DataFrame
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        explain(pipelines["logistic_regression"], change(sample))


@pytest.mark.parametrize(
    ("row_ids", "message"),
    [(["a", "b"], "Got 2 row ids"), (["same"] * SAMPLE, "repeat")],
    ids=["too-few", "repeated"],
)
def test_explain_refuses_bad_row_ids(
    row_ids: list[str], message: str, pipelines: dict, sample: pd.DataFrame
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        explain(pipelines["logistic_regression"], sample, row_ids=row_ids)


def test_explain_refuses_a_multiclass_model(features: pd.DataFrame) -> None:
    three = np.arange(len(features)) % 3
    model = LogisticRegression().fit(features[NUMERIC], three)

    with pytest.raises(NotImplementedError, match="binary classifiers only"):
        explain(model, features[NUMERIC].head(5))
