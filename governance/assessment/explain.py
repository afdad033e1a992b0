"""SHAP values of a binary classifier on a deterministic sample of rows.

The framework's deployment checklist asks that "explainability [is] available".
This module computes SHAP values for the rows of a sample, per *raw* feature (the
columns of the frame the model is fed), and stores them so the views can show
global importance and one row's explanation without loading the model.

Explainers
    The model is an sklearn estimator or a ``Pipeline`` whose last step is the
    classifier. When that classifier is a tree ensemble (sklearn's gradient
    boosting, histogram gradient boosting, random forest, extra trees and decision
    tree; LightGBM; XGBoost; CatBoost), ``shap.TreeExplainer`` explains it on the
    matrix the preprocessing steps produce, with the tree-path-dependent algorithm:
    exact, and it needs no background sample; the base value is the model's
    expected output over its training data (the trees' node counts). The
    interventional variant, against a background sample, took about six times as
    long on histogram gradient boosting and did not add up to the model's output
    in shap 0.51, so it is not used. When the classifier is a logistic regression,
    ``shap.LinearExplainer`` explains it against a background sample of the
    transformed matrix (interventional: ``coef * (x - mean(background))``). The
    background is drawn from the explained rows. A bare classifier fed numeric
    columns is explained the same way without preprocessing.

From transformed columns to raw features
    Each transformed column is traced back to the one raw feature it is computed
    from: through ``ColumnTransformer``'s column lists and ``output_indices_``,
    through nested pipelines step by step, and through a transformer's
    ``get_feature_names_out`` (output names equal to the inputs are one-to-one; a
    single input owns all outputs; otherwise an output named ``<input>_<suffix>``,
    as ``OneHotEncoder`` names them, belongs to the longest input it starts with).
    The SHAP value of a raw feature is the sum of the values of its columns. SHAP
    values are additive (base value plus the sum over columns equals the model's
    output), and every column has exactly one owner, so the sums keep that
    property. A raw feature the preprocessing drops gets zero.

Model-agnostic fallback
    Anything else (another classifier, a transformer whose outputs cannot be
    traced, or an exact explainer whose additivity check fails) is explained by
    ``shap.PermutationExplainer`` over ``predict_proba`` on the raw frame, in
    probability space. Every column is ordinal-encoded into its distinct values
    (missing values included) inside a wrapper that decodes the masked rows back
    into a frame of the original dtypes. The attribution is an estimate from
    ``PERMUTATIONS`` antithetic permutations per row against a background sample;
    its sum is still exact, since each permutation path runs from the fully
    masked row to the row itself, so the same additivity tolerance applies. It is
    slow: each row costs ``PERMUTATIONS * (2 * features + 1)`` evaluations of the
    model on every background row, and shap compiles numba kernels on first use
    (10-20 s once per process).

Output space
    Gradient boosting and logistic regression are explained in log-odds (checked
    against ``decision_function`` or the booster's raw score); random forests,
    extra trees, decision trees and the fallback in probability.

Storage
    `save_explanation` writes ``values.parquet`` (SHAP values, one row per
    ``row_id``), ``features.parquet`` (the explained feature values) and
    ``explanation.json`` (base value, output space, feature names, method,
    additivity). `load_explanation` reads them with pandas alone.
"""

from __future__ import annotations

import inspect
import json
import logging
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from governance.errors import InvalidInputError, NotFoundError

logger = logging.getLogger(__name__)

ADDITIVITY_TOLERANCE = 1e-6
"""Largest |base + sum(values) - model output| for an explanation to be additive."""

PERMUTATIONS = 10
"""Antithetic permutations per row in the model-agnostic fallback (shap's default)."""

OutputSpace = Literal["log_odds", "probability"]
Method = Literal["tree", "linear", "permutation"]

VALUES_FILE = "values.parquet"
FEATURES_FILE = "features.parquet"
METADATA_FILE = "explanation.json"
_FORMAT_VERSION = 1

_TREE_MODELS = {
    "sklearn": {
        "HistGradientBoostingClassifier",
        "GradientBoostingClassifier",
        "RandomForestClassifier",
        "ExtraTreesClassifier",
        "DecisionTreeClassifier",
    },
    "lightgbm": {"LGBMClassifier"},
    "xgboost": {"XGBClassifier"},
    "catboost": {"CatBoostClassifier"},
}
_LINEAR_MODELS = {"sklearn": {"LogisticRegression", "LogisticRegressionCV"}}


@dataclass(frozen=True, eq=False)
class Explanation:
    """SHAP values of a sample of rows, per raw feature.

    Attributes
    ----------
    feature_names
        The raw features, in the order of the columns of ``values``.
    values
        SHAP values, one row per explained row and one column per feature.
    base_value
        The model's expected output, in ``output_space``.
    output_space
        ``"log_odds"`` or ``"probability"``.
    row_ids
        Identifier of each explained row.
    feature_values
        The explained rows' feature values, indexed by row id.
    method
        ``"tree"``, ``"linear"`` or ``"permutation"``.
    additivity_error
        Largest ``|base_value + sum(values) - model output|`` over the rows.
    additivity_tolerance
        Largest error for the explanation to count as additive.
    """

    feature_names: tuple[str, ...]
    values: np.ndarray
    base_value: float
    output_space: OutputSpace
    row_ids: tuple[str, ...]
    feature_values: pd.DataFrame
    method: Method
    additivity_error: float
    additivity_tolerance: float = ADDITIVITY_TOLERANCE

    def __post_init__(self) -> None:
        expected = (len(self.row_ids), len(self.feature_names))
        if self.values.shape != expected:
            raise InvalidInputError(
                f"SHAP values have shape {self.values.shape}, expected {expected} "
                "(rows x features); the stored explanation is inconsistent."
            )
        # One memory layout whatever the source (shap, Parquet), so sums over the
        # same values agree to the last bit; read-only, as evidence is never edited.
        values = np.ascontiguousarray(self.values, dtype=np.float64)
        values.setflags(write=False)
        object.__setattr__(self, "values", values)

    @property
    def is_additive(self) -> bool:
        """Whether base value plus the row's values gives the model's output."""
        return self.additivity_error <= self.additivity_tolerance

    def global_importance(self) -> pd.Series:
        """Mean absolute SHAP value per raw feature, largest first.

        Returns
        -------
        pandas.Series
            Indexed by feature name, named ``mean_abs_shap``.
        """
        importance = pd.Series(
            np.abs(self.values).mean(axis=0),
            index=pd.Index(self.feature_names, name="feature"),
            name="mean_abs_shap",
        )
        return importance.sort_values(ascending=False, kind="stable")

    def row(self, row_id: str) -> pd.Series:
        """SHAP values of one row, per raw feature in feature order.

        Parameters
        ----------
        row_id
            Identifier of an explained row.

        Returns
        -------
        pandas.Series
            Indexed by feature name, named after the row; the feature values of
            the row are ``feature_values.loc[row_id]``.

        Raises
        ------
        InvalidInputError
            When the row was not explained.
        """
        try:
            position = self.row_ids.index(str(row_id))
        except ValueError:
            raise InvalidInputError(
                f"Row {row_id!r} is not in the explained sample of "
                f"{len(self.row_ids)} rows; pick one of its row ids."
            ) from None
        return pd.Series(
            self.values[position],
            index=pd.Index(self.feature_names, name="feature"),
            name=str(row_id),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable summary; the values themselves go to artifacts."""
        importance = self.global_importance()
        return {
            "method": self.method,
            "output_space": self.output_space,
            "base_value": self.base_value,
            "rows": len(self.row_ids),
            "feature_names": list(self.feature_names),
            "global_importance": [
                {"feature": name, "mean_abs_shap": float(value)}
                for name, value in importance.items()
            ],
            "additivity_error": self.additivity_error,
            "additivity_tolerance": self.additivity_tolerance,
            "is_additive": self.is_additive,
        }


@dataclass(frozen=True)
class _Attribution:
    values: np.ndarray
    base_value: float
    output_space: OutputSpace
    method: Method
    model_output: np.ndarray

    @property
    def additivity_error(self) -> float:
        rebuilt = self.base_value + self.values.sum(axis=1)
        return float(np.max(np.abs(rebuilt - self.model_output)))


def shap_sample_index(frame: pd.DataFrame, *, rows: int, seed: int = 0) -> np.ndarray:
    """Positions of a deterministic sample of rows to explain.

    Parameters
    ----------
    frame
        The data to sample from.
    rows
        Sample size (the policy's ``explanations.shap_sample_rows``).
    seed
        Seed of the sample.

    Returns
    -------
    numpy.ndarray
        Sorted row positions: the same for the same number of rows and seed, and
        every position when the frame has no more than ``rows`` rows.

    Raises
    ------
    InvalidInputError
        When ``rows`` is not positive.
    """
    if rows <= 0:
        raise InvalidInputError(f"The SHAP sample needs at least one row, got {rows}.")
    if len(frame) <= rows:
        return np.arange(len(frame))
    chosen = np.random.default_rng(seed).choice(len(frame), size=rows, replace=False)
    return np.sort(chosen)


def explain(
    model: Any,
    features: pd.DataFrame,
    *,
    row_ids: Sequence[str] | None = None,
    background_rows: int = 200,
    seed: int = 0,
) -> Explanation:
    """SHAP values of every row of ``features``, per raw feature.

    Parameters
    ----------
    model
        A fitted binary classifier: an sklearn estimator or ``Pipeline``.
    features
        The rows to explain, raw features as columns (as the model is fed them).
        When the model records ``feature_names_in_``, those columns are used in
        that order and any other column is ignored.
    row_ids
        Identifier of each row; the frame's index when omitted.
    background_rows
        Size of the background sample, drawn from ``features``, for the linear
        and the model-agnostic explainers (the tree explainer needs none).
    seed
        Seed of the background sample and of the permutations.

    Returns
    -------
    Explanation
        The SHAP values with their additivity check.

    Raises
    ------
    InvalidInputError
        When the frame is empty or lacks a column the model was fitted on, row ids
        are not one per row or repeat, or ``background_rows`` is not positive.
    NotImplementedError
        When the model is not a binary classifier.
    """
    frame = _model_inputs(model, features)
    ids = _row_ids(frame, row_ids)
    if background_rows <= 0:
        raise InvalidInputError(
            f"background_rows must be positive, got {background_rows}."
        )
    _check_binary(model)

    attribution = _explain_exactly(model, frame, background_rows, seed)
    if attribution is not None and attribution.additivity_error > ADDITIVITY_TOLERANCE:
        logger.warning(
            "The %s explainer is not additive on this model (error %.3g); "
            "falling back to the permutation explainer",
            attribution.method,
            attribution.additivity_error,
        )
        attribution = None
    if attribution is None:
        attribution = _explain_by_permutation(model, frame, background_rows, seed)

    explanation = Explanation(
        feature_names=tuple(str(name) for name in frame.columns),
        values=attribution.values,
        base_value=attribution.base_value,
        output_space=attribution.output_space,
        row_ids=ids,
        feature_values=_indexed(frame, ids),
        method=attribution.method,
        additivity_error=attribution.additivity_error,
    )
    logger.info(
        "Explained %s rows with the %s explainer in %s, additivity error %.3g",
        len(ids),
        explanation.method,
        explanation.output_space,
        explanation.additivity_error,
    )
    return explanation


def save_explanation(explanation: Explanation, folder: Path) -> list[Path]:
    """Write an explanation to ``folder`` as two Parquet files and a JSON file.

    Parameters
    ----------
    explanation
        The explanation to store.
    folder
        Directory to write into; created when missing.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    index = pd.Index(explanation.row_ids, name="row_id")
    values = pd.DataFrame(
        explanation.values, index=index, columns=list(explanation.feature_names)
    )
    metadata = {
        "format_version": _FORMAT_VERSION,
        "base_value": explanation.base_value,
        "output_space": explanation.output_space,
        "feature_names": list(explanation.feature_names),
        "method": explanation.method,
        "additivity_error": explanation.additivity_error,
        "additivity_tolerance": explanation.additivity_tolerance,
    }

    paths = [folder / VALUES_FILE, folder / FEATURES_FILE, folder / METADATA_FILE]
    values.to_parquet(paths[0])
    explanation.feature_values.to_parquet(paths[1])
    paths[2].write_text(json.dumps(metadata, indent=2), encoding="utf-8")
    return paths


def load_explanation(folder: Path) -> Explanation:
    """Read an explanation written by `save_explanation`.

    Needs neither the model nor shap.

    Parameters
    ----------
    folder
        Directory holding the explanation's files.

    Returns
    -------
    Explanation
        The stored explanation.

    Raises
    ------
    NotFoundError
        When a file is missing.
    InvalidInputError
        When the files disagree on features or rows.
    """
    missing = [
        name
        for name in (VALUES_FILE, FEATURES_FILE, METADATA_FILE)
        if not (folder / name).is_file()
    ]
    if missing:
        raise NotFoundError(
            f"No stored explanation in {folder}: missing {', '.join(missing)}. "
            "Run the assessment again to compute it."
        )
    metadata = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))
    values = pd.read_parquet(folder / VALUES_FILE)
    feature_values = pd.read_parquet(folder / FEATURES_FILE)

    feature_names = tuple(metadata["feature_names"])
    row_ids = tuple(str(row_id) for row_id in values.index)
    stored_rows = tuple(str(row_id) for row_id in feature_values.index)
    if tuple(values.columns) != feature_names or stored_rows != row_ids:
        raise InvalidInputError(
            f"The explanation files in {folder} disagree on features or rows; "
            "run the assessment again to rewrite them."
        )
    return Explanation(
        feature_names=feature_names,
        values=values.to_numpy(dtype=np.float64),
        base_value=float(metadata["base_value"]),
        output_space=metadata["output_space"],
        row_ids=row_ids,
        feature_values=feature_values,
        method=metadata["method"],
        additivity_error=float(metadata["additivity_error"]),
        additivity_tolerance=float(metadata["additivity_tolerance"]),
    )


def _model_inputs(model: Any, features: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(features, pd.DataFrame):
        raise InvalidInputError(
            f"features must be a pandas DataFrame, got {type(features).__name__}."
        )
    if features.empty:
        raise InvalidInputError(
            "features has no rows or no columns; explain at least one row."
        )
    fitted_on = getattr(model, "feature_names_in_", None)
    if fitted_on is None:
        frame = features
    else:
        absent = [name for name in fitted_on if name not in features.columns]
        if absent:
            raise InvalidInputError(
                f"features lacks {len(absent)} column(s) the model was fitted on: "
                f"{', '.join(map(str, absent[:5]))}; pass the model's raw features."
            )
        frame = features[list(fitted_on)]
    names = [str(name) for name in frame.columns]
    if len(set(names)) != len(names):
        raise InvalidInputError(
            "features has repeated column names; give every feature its own name."
        )
    return frame


def _row_ids(frame: pd.DataFrame, row_ids: Sequence[str] | None) -> tuple[str, ...]:
    ids = tuple(str(row_id) for row_id in (frame.index if row_ids is None else row_ids))
    if len(ids) != len(frame):
        raise InvalidInputError(
            f"Got {len(ids)} row ids for {len(frame)} rows; pass one id per row."
        )
    if len(set(ids)) != len(ids):
        raise InvalidInputError(
            "Row ids repeat; pass a unique id per row (or a frame with a unique index)."
        )
    return ids


def _check_binary(model: Any) -> None:
    classes = getattr(model, "classes_", None)
    if classes is not None and len(classes) != 2:
        raise NotImplementedError(
            f"Explanations support binary classifiers only; this model has "
            f"{len(classes)} classes."
        )


def _indexed(frame: pd.DataFrame, ids: tuple[str, ...]) -> pd.DataFrame:
    indexed = frame.copy()
    indexed.columns = [str(name) for name in frame.columns]
    indexed.index = pd.Index(ids, name="row_id")
    return indexed


def _background_index(rows: int, background_rows: int, seed: int) -> np.ndarray:
    if rows <= background_rows:
        return np.arange(rows)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(rows, size=background_rows, replace=False))


def _import_shap() -> Any:
    # shap imports its plotting module on import, and matplotlib warns there about
    # a colormap method it plans to deprecate; that is not ours to act on.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=PendingDeprecationWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        import shap

    return shap


def _is_one_of(estimator: Any, families: dict[str, set[str]]) -> bool:
    for cls in type(estimator).__mro__:
        package = cls.__module__.split(".")[0]
        if cls.__name__ in families.get(package, set()):
            return True
    return False


def _explain_exactly(
    model: Any, frame: pd.DataFrame, background_rows: int, seed: int
) -> _Attribution | None:
    from sklearn.pipeline import Pipeline

    if isinstance(model, Pipeline) and len(model.steps) > 1:
        preprocess, estimator = model[:-1], model.steps[-1][1]
    else:
        preprocess, estimator = (
            None,
            model[-1] if isinstance(model, Pipeline) else model,
        )
    is_tree = _is_one_of(estimator, _TREE_MODELS)
    if not (is_tree or _is_one_of(estimator, _LINEAR_MODELS)):
        logger.debug("No exact explainer for %s", type(estimator).__name__)
        return None

    traced = _transform(preprocess, frame)
    if traced is None:
        return None
    transformed, owners = traced
    if preprocess is None and not hasattr(estimator, "feature_names_in_"):
        transformed = frame.to_numpy()  # fitted on an array: no names to check
    matrix = np.asarray(transformed, dtype=np.float64)

    if is_tree:
        values, base_value, output_space = _tree_shap(estimator, matrix)
    else:
        background = matrix[_background_index(len(matrix), background_rows, seed)]
        values, base_value, output_space = _linear_shap(estimator, matrix, background)
    return _Attribution(
        values=_sum_by_owner(values, owners, frame.shape[1]),
        base_value=base_value,
        output_space=output_space,
        method="tree" if is_tree else "linear",
        model_output=_model_output(estimator, transformed, output_space),
    )


def _transform(preprocess: Any, frame: pd.DataFrame) -> tuple[Any, np.ndarray] | None:
    if preprocess is None:
        if not all(pd.api.types.is_numeric_dtype(dtype) for dtype in frame.dtypes):
            logger.debug("A bare estimator on non-numeric columns: no exact explainer")
            return None
        return frame, np.arange(frame.shape[1])

    owners = _owner_positions(preprocess, [str(name) for name in frame.columns])
    transformed = preprocess.transform(frame)
    if hasattr(transformed, "toarray"):
        transformed = transformed.toarray()
    if owners is None or len(owners) != transformed.shape[1]:
        logger.warning(
            "Cannot trace the transformed columns of %s back to raw features; "
            "using the permutation explainer",
            type(preprocess).__name__,
        )
        return None
    return transformed, owners


def _tree_shap(estimator: Any, matrix: np.ndarray) -> tuple[np.ndarray, float, Any]:
    shap = _import_shap()
    explainer = shap.TreeExplainer(estimator)
    with warnings.catch_warnings():
        # shap announces that LightGBM's binary output is now one array, which is
        # the form handled below.
        warnings.filterwarnings(
            "ignore", message="LightGBM binary classifier", category=UserWarning
        )
        values = explainer.shap_values(matrix, check_additivity=False)
    output_space = (
        "probability" if explainer.model.tree_output == "probability" else "log_odds"
    )
    return (*_positive_class(values, explainer.expected_value), output_space)


def _linear_shap(
    estimator: Any, matrix: np.ndarray, background: np.ndarray
) -> tuple[np.ndarray, float, Any]:
    shap = _import_shap()
    # Pass the masker explicitly: given a bare array, shap keeps only 100 of its rows.
    masker = shap.maskers.Independent(background, max_samples=len(background))
    explainer = shap.LinearExplainer(estimator, masker)
    values = explainer.shap_values(matrix)
    return (*_positive_class(values, explainer.expected_value), "log_odds")


def _positive_class(values: Any, expected_value: Any) -> tuple[np.ndarray, float]:
    # Depending on the model, shap returns one array for the positive class or one
    # per class (a list, or a trailing class axis); keep the positive class.
    if isinstance(values, list):
        values = values[-1]
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 3:
        array = array[:, :, -1]
    base = np.ravel(np.asarray(expected_value, dtype=np.float64))
    return array, float(base[-1])


def _model_output(estimator: Any, transformed: Any, output_space: str) -> np.ndarray:
    if output_space == "probability":
        return np.asarray(estimator.predict_proba(transformed))[:, 1]
    if hasattr(estimator, "decision_function"):
        return np.asarray(estimator.decision_function(transformed), dtype=np.float64)
    parameters = inspect.signature(estimator.predict).parameters
    for raw_flag in ("raw_score", "output_margin"):
        if raw_flag in parameters:
            raw = estimator.predict(transformed, **{raw_flag: True})
            return np.asarray(raw, dtype=np.float64)
    probability = np.asarray(estimator.predict_proba(transformed))[:, 1]
    return np.log(probability) - np.log1p(-probability)


def _sum_by_owner(values: np.ndarray, owners: np.ndarray, features: int) -> np.ndarray:
    summed = np.zeros((values.shape[0], features), dtype=np.float64)
    for feature in np.unique(owners):
        summed[:, feature] = values[:, owners == feature].sum(axis=1)
    return summed


def _owner_positions(transformer: Any, inputs: list[str]) -> np.ndarray | None:
    """Position in ``inputs`` of the raw input behind each output column."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    if isinstance(transformer, str):
        if transformer == "drop":
            return np.empty(0, dtype=np.intp)
        return np.arange(len(inputs)) if transformer == "passthrough" else None
    if isinstance(transformer, ColumnTransformer):
        return _column_transformer_owners(transformer, inputs)
    if isinstance(transformer, Pipeline):
        return _pipeline_owners(transformer, inputs)
    return _owners_by_name(transformer, inputs)


def _pipeline_owners(pipeline: Any, inputs: list[str]) -> np.ndarray | None:
    steps = [
        step
        for _, step in pipeline.steps
        if not (step is None or (isinstance(step, str) and step == "passthrough"))
    ]
    owners: np.ndarray = np.arange(len(inputs))
    names = inputs
    for position, step in enumerate(steps):
        local = _owner_positions(step, names)
        if local is None:
            return None
        owners = owners[local]
        if position < len(steps) - 1:
            names_out = _names_out(step, names)
            if names_out is None:
                return None
            names = names_out
    return owners


def _column_transformer_owners(
    transformer: Any, inputs: list[str]
) -> np.ndarray | None:
    slices = transformer.output_indices_
    owners = np.full(max(part.stop for part in slices.values()), -1, dtype=np.intp)
    position = {name: index for index, name in enumerate(inputs)}
    for name, step, columns in transformer.transformers_:
        output = slices[name]
        if output.stop == output.start:
            continue
        selected = _selected_columns(columns, inputs)
        if selected is None:
            return None
        local = _owner_positions(step, selected)
        if local is None or len(local) != output.stop - output.start:
            return None
        owners[output] = [position[selected[index]] for index in local]
    return None if (owners < 0).any() else owners


def _selected_columns(columns: Any, inputs: list[str]) -> list[str] | None:
    if isinstance(columns, str):
        return [columns] if columns in inputs else None
    if isinstance(columns, slice):
        if isinstance(columns.start, str) or isinstance(columns.stop, str):
            start = None if columns.start is None else inputs.index(columns.start)
            stop = None if columns.stop is None else inputs.index(columns.stop) + 1
            return inputs[start:stop]
        return inputs[columns]
    if callable(columns):
        return None
    array = np.asarray(columns)
    if array.dtype == bool:
        return [name for name, keep in zip(inputs, array, strict=True) if keep]
    if np.issubdtype(array.dtype, np.integer):
        return [inputs[index] for index in array]
    names = [str(name) for name in array]
    return names if set(names) <= set(inputs) else None


def _owners_by_name(transformer: Any, inputs: list[str]) -> np.ndarray | None:
    names = _names_out(transformer, inputs)
    if names is None:
        return None
    if names == inputs:
        return np.arange(len(inputs))
    if len(inputs) == 1:
        return np.zeros(len(names), dtype=np.intp)
    owners = []
    for name in names:
        matches = [
            index
            for index, raw in enumerate(inputs)
            if name == raw or name.startswith(f"{raw}_")
        ]
        if not matches:
            return None
        owners.append(max(matches, key=lambda index: len(inputs[index])))
    return np.asarray(owners, dtype=np.intp)


def _names_out(transformer: Any, inputs: list[str]) -> list[str] | None:
    try:
        return [str(name) for name in transformer.get_feature_names_out(inputs)]
    except (AttributeError, TypeError, ValueError) as exc:
        logger.debug("%s names no outputs: %s", type(transformer).__name__, exc)
        return None


def _explain_by_permutation(
    model: Any, frame: pd.DataFrame, background_rows: int, seed: int
) -> _Attribution:
    shap = _import_shap()
    codes, decode = _ordinal_codec(frame)
    background = codes[_background_index(len(codes), background_rows, seed)]

    def positive_probability(masked: np.ndarray) -> np.ndarray:
        return np.asarray(model.predict_proba(decode(masked)))[:, 1]

    masker = shap.maskers.Independent(background, max_samples=len(background))
    explainer = shap.PermutationExplainer(positive_probability, masker, seed=seed)
    result = explainer(
        codes, max_evals=PERMUTATIONS * (2 * frame.shape[1] + 1), silent=True
    )
    return _Attribution(
        values=np.asarray(result.values, dtype=np.float64),
        base_value=float(np.ravel(result.base_values)[0]),
        output_space="probability",
        method="permutation",
        model_output=np.asarray(model.predict_proba(frame))[:, 1],
    )


def _ordinal_codec(
    frame: pd.DataFrame,
) -> tuple[np.ndarray, Callable[[np.ndarray], pd.DataFrame]]:
    # Every column, numeric or not, becomes the position of its value among the
    # column's distinct values, missing values included. shap's maskers blend rows
    # arithmetically, so a NaN (or a string) must never reach them.
    columns, uniques = [], []
    for name in frame.columns:
        column_codes, column_uniques = pd.factorize(frame[name], use_na_sentinel=False)
        columns.append(column_codes)
        uniques.append(column_uniques)
    codes = np.column_stack(columns).astype(np.float64)

    def decode(masked: np.ndarray) -> pd.DataFrame:
        positions = np.rint(masked).astype(np.intp)
        return pd.DataFrame(
            {
                name: pd.Series(uniques[index].take(positions[:, index]))
                for index, name in enumerate(frame.columns)
            }
        )

    return codes, decode
