"""Train, log and register the demo's models in MLflow.

The registry ends up holding what a real team's would after a few iterations:

``lead-scoring``
    v1, a logistic-regression baseline on the legitimate features; v2, gradient
    boosting on the same features, which meets the performance standards; v3, the
    same algorithm given ``nationality_region`` and ``gender`` as well, which
    learns the recorded-outcome disparity of the leads.
``licence-renewal``
    v1 logistic regression and v2 gradient boosting on the renewals dataset.

Every version logs its parameters, test metrics, decision threshold and the
tags the console reads when the model is registered with it (features, target,
sensitive features, data source and Delta version), with a signature, an input
example and a description. The train, test and current splits are written as
Parquet files so the console can be pointed at them like at any user's data.
"""

from __future__ import annotations

import datetime
import logging
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from governance.demo import leads as lead_data
from governance.demo import renewals as renewal_data
from governance.errors import ConflictError, InvalidInputError

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from sklearn.pipeline import Pipeline

logger = logging.getLogger(__name__)

LEAD_SCORING = "lead-scoring"
LICENCE_RENEWAL = "licence-renewal"
LOGISTIC_REGRESSION = "logistic_regression"
GRADIENT_BOOSTING = "hist_gradient_boosting"
MODEL_ARTIFACT = "model"
VALIDATION_FRACTION = 0.25
INPUT_EXAMPLE_ROWS = 5


@dataclass(frozen=True)
class DemoVersion:
    """One registered demo model version and the data it was built from."""

    model_name: str
    version: str
    run_id: str
    model_uri: str
    algorithm: str
    features: tuple[str, ...]
    decision_threshold: float
    metrics: dict[str, float] = field(hash=False)
    train_path: Path
    test_path: Path
    current_path: Path
    target: str
    timestamp_column: str
    sensitive_features: tuple[str, ...]
    pii_columns: tuple[str, ...]
    data_source: str
    data_version: int
    description: str


@dataclass(frozen=True)
class _Dataset:
    """A demo dataset split and stored, with the columns the console must know."""

    model_name: str
    train: pd.DataFrame = field(repr=False)
    test: pd.DataFrame = field(repr=False)
    current: pd.DataFrame = field(repr=False)
    paths: dict[str, Path]
    target: str
    timestamp_column: str
    sensitive_features: tuple[str, ...]
    pii_columns: tuple[str, ...]
    data_source: str
    data_version: int


@dataclass(frozen=True)
class _Candidate:
    """A model to train: its algorithm, its features and what to say about it."""

    algorithm: str
    categorical: tuple[str, ...]
    numeric: tuple[str, ...]
    description: str

    @property
    def features(self) -> tuple[str, ...]:
        return self.categorical + self.numeric


def train_demo_models(
    *,
    tracking_uri: str,
    data_dir: Path,
    seed: int,
    end: datetime.date,
    n_leads: int = 24_000,
    n_licences: int = 20_000,
) -> list[DemoVersion]:
    """Generate the demo data, then train, log and register every demo model.

    Parameters
    ----------
    tracking_uri : str
        MLflow tracking and registry URI, e.g. ``sqlite:////abs/mlflow/mlflow.db``.
        For a SQLite store the experiments keep their artifacts in the folder
        ``artifacts`` beside the database file. Set as the process's tracking URI.
    data_dir : pathlib.Path
        Folder for the Delta tables and Parquet splits; one subfolder per model.
        It must not hold demo tables yet.
    seed : int
        Seed of the data generators, the splits and the models.
    end : datetime.date
        The data covers the calendar months before ``end``'s month.
    n_leads, n_licences : int
        Rows of the lead and renewal datasets; smaller values make a quicker
        build for tests.

    Returns
    -------
    list of DemoVersion
        The registered versions in registration order.

    Raises
    ------
    ConflictError
        If the registry already holds one of the demo's registered models.
    InvalidInputError
        If ``data_dir`` already holds a demo Delta table.
    """
    import mlflow

    data_dir = Path(data_dir)
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    client = mlflow.MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    with _phase("registry check"):
        _refuse_existing_models(client, (LEAD_SCORING, LICENCE_RENEWAL))

    with _phase("lead data"):
        leads = _prepare_leads(data_dir, seed=seed, end=end, n=n_leads)
    with _phase("renewal data"):
        renewals = _prepare_renewals(data_dir, seed=seed, end=end, n=n_licences)

    versions = []
    plan = ((leads, _lead_candidates()), (renewals, _renewal_candidates()))
    # One OpenMP thread: on a busy two-core machine, gradient boosting's threads
    # spin-wait on each other and a fit takes five to ten times longer.
    with threadpool_limits(limits=1):
        for dataset, candidates in plan:
            versions.extend(_register_candidates(client, dataset, candidates, seed))
    return versions


def _register_candidates(
    client: MlflowClient,
    dataset: _Dataset,
    candidates: tuple[_Candidate, ...],
    seed: int,
) -> list[DemoVersion]:
    experiment_id = _experiment(client, dataset.model_name, client.tracking_uri)
    client.create_registered_model(
        dataset.model_name, description=_MODEL_DESCRIPTIONS[dataset.model_name]
    )
    versions = []
    for number, candidate in enumerate(candidates, start=1):
        with _phase(f"{dataset.model_name} #{number} {candidate.algorithm}"):
            versions.append(
                _train_and_register(client, experiment_id, dataset, candidate, seed)
            )
    return versions


def decision_threshold(y_true: np.ndarray, scores: np.ndarray) -> float:
    """Score threshold at which precision and recall are closest to equal.

    Parameters
    ----------
    y_true : numpy.ndarray
        0/1 outcomes of a validation set.
    scores : numpy.ndarray
        Predicted probabilities of the positive class for the same rows.

    Returns
    -------
    float
        The threshold; a row is predicted positive when its score is at least
        this value.

    Raises
    ------
    InvalidInputError
        If the lengths differ or ``y_true`` does not hold both classes.
    """
    from sklearn.metrics import precision_recall_curve

    y_true = np.asarray(y_true)
    if len(y_true) != len(scores) or len(np.unique(y_true)) != 2:
        raise InvalidInputError(
            "decision_threshold needs equally long outcomes and scores, with both "
            "classes present; pass a larger or stratified validation set."
        )
    precision, recall, thresholds = precision_recall_curve(y_true, scores)
    gap = np.abs(precision[:-1] - recall[:-1])
    return float(thresholds[int(np.argmin(gap))])


@contextmanager
def _phase(name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    logger.info("Demo phase %s took %.2f s", name, time.perf_counter() - started)


def _refuse_existing_models(client: MlflowClient, names: tuple[str, ...]) -> None:
    existing = [m.name for m in client.search_registered_models() if m.name in names]
    if existing:
        raise ConflictError(
            f"The MLflow registry already holds {existing}; build the demo into a "
            "fresh store or delete those registered models first."
        )


def _prepare_leads(
    data_dir: Path, *, seed: int, end: datetime.date, n: int
) -> _Dataset:
    folder = data_dir / LEAD_SCORING
    leads = lead_data.generate_leads(seed=seed, end=end, n_leads=n)
    last_version = lead_data.write_monthly_delta(leads, folder / "delta")
    train, test, current = lead_data.split_leads(leads, seed=seed)
    return _Dataset(
        model_name=LEAD_SCORING,
        train=train,
        test=test,
        current=current,
        paths=_write_splits(folder, train=train, test=test, current=current),
        target=lead_data.TARGET,
        timestamp_column=lead_data.TIMESTAMP,
        sensitive_features=lead_data.SENSITIVE_FEATURES,
        pii_columns=lead_data.PII_COLUMNS,
        data_source=(folder / "delta").resolve().as_uri(),
        data_version=last_version - lead_data.DRIFT_MONTHS,
    )


def _prepare_renewals(
    data_dir: Path, *, seed: int, end: datetime.date, n: int
) -> _Dataset:
    folder = data_dir / LICENCE_RENEWAL
    renewals = renewal_data.generate_renewals(seed=seed, end=end, n_licences=n)
    timestamp = renewal_data.TIMESTAMP
    last_version = lead_data.write_monthly_delta(
        renewals, folder / "delta", timestamp=timestamp
    )
    train, test, current = lead_data.split_leads(
        renewals, seed=seed, target=renewal_data.TARGET, timestamp=timestamp
    )
    return _Dataset(
        model_name=LICENCE_RENEWAL,
        train=train,
        test=test,
        current=current,
        paths=_write_splits(folder, train=train, test=test, current=current),
        target=renewal_data.TARGET,
        timestamp_column=timestamp,
        sensitive_features=renewal_data.SENSITIVE_FEATURES,
        pii_columns=renewal_data.PII_COLUMNS,
        data_source=(folder / "delta").resolve().as_uri(),
        data_version=last_version - lead_data.DRIFT_MONTHS,
    )


def _write_splits(folder: Path, **splits: pd.DataFrame) -> dict[str, Path]:
    paths = {}
    for name, frame in splits.items():
        paths[name] = (folder / f"{name}.parquet").resolve()
        frame.to_parquet(paths[name], index=False)
    return paths


def _lead_candidates() -> tuple[_Candidate, ...]:
    categorical = lead_data.CATEGORICAL_FEATURES
    numeric = lead_data.NUMERIC_FEATURES
    return (
        _Candidate(
            LOGISTIC_REGRESSION,
            categorical,
            numeric,
            "Baseline: logistic regression on the legitimate lead features "
            "(source, activity, licence, size, budget, visas, engagement).",
        ),
        _Candidate(
            GRADIENT_BOOSTING,
            categorical,
            numeric,
            "Gradient boosting on the legitimate lead features; no sensitive "
            "feature or PII is a model input.",
        ),
        _Candidate(
            GRADIENT_BOOSTING,
            categorical + ("nationality_region", "gender"),
            numeric,
            "Gradient boosting that also uses nationality_region and gender. "
            "Candidate for review: assess its disparity before approval.",
        ),
    )


def _renewal_candidates() -> tuple[_Candidate, ...]:
    categorical = renewal_data.CATEGORICAL_FEATURES
    numeric = renewal_data.NUMERIC_FEATURES
    return (
        _Candidate(
            LOGISTIC_REGRESSION,
            categorical,
            numeric,
            "Baseline: logistic regression on licence usage and payment history.",
        ),
        _Candidate(
            GRADIENT_BOOSTING,
            categorical,
            numeric,
            "Gradient boosting on licence usage and payment history.",
        ),
    )


_MODEL_DESCRIPTIONS = {
    LEAD_SCORING: (
        "Scores each business-setup enquiry by its chance of converting into a "
        "free-zone licence, so the sales team follows up the most promising leads "
        "first. Target: converted (0/1)."
    ),
    LICENCE_RENEWAL: (
        "Predicts whether a licensed company will renew its free-zone licence, so "
        "account managers contact those at risk of leaving. Target: renewed (0/1)."
    ),
}


def _build_pipeline(candidate: _Candidate, seed: int) -> Pipeline:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    one_hot = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    if candidate.algorithm == LOGISTIC_REGRESSION:
        numeric = Pipeline(
            [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
        )
        estimator: Any = LogisticRegression(max_iter=1000)
    else:
        numeric = "passthrough"
        estimator = HistGradientBoostingClassifier(
            learning_rate=0.08, max_iter=200, random_state=seed
        )
    preprocess = ColumnTransformer(
        [
            ("categorical", one_hot, list(candidate.categorical)),
            ("numeric", numeric, list(candidate.numeric)),
        ]
    )
    return Pipeline([("preprocess", preprocess), ("classifier", estimator)])


def _fit_with_threshold(
    candidate: _Candidate, dataset: _Dataset, seed: int
) -> tuple[Pipeline, float]:
    """Choose the threshold on a validation part of train, then refit on all of it."""
    from sklearn.model_selection import train_test_split

    features = list(candidate.features)
    fit_part, validation = train_test_split(
        dataset.train,
        test_size=VALIDATION_FRACTION,
        random_state=seed,
        stratify=dataset.train[dataset.target],
    )
    model = _build_pipeline(candidate, seed)
    model.fit(fit_part[features], fit_part[dataset.target])
    scores = model.predict_proba(validation[features])[:, 1]
    threshold = decision_threshold(validation[dataset.target].to_numpy(), scores)

    model = _build_pipeline(candidate, seed)
    model.fit(dataset.train[features], dataset.train[dataset.target])
    return model, threshold


def _test_metrics(
    model: Pipeline, threshold: float, candidate: _Candidate, dataset: _Dataset
) -> dict[str, float]:
    from fairlearn.metrics import demographic_parity_difference
    from sklearn.metrics import (
        brier_score_loss,
        f1_score,
        precision_score,
        recall_score,
        roc_auc_score,
    )

    y_true = dataset.test[dataset.target].to_numpy()
    scores = model.predict_proba(dataset.test[list(candidate.features)])[:, 1]
    y_pred = (scores >= threshold).astype(int)
    metrics = {
        "auc": roc_auc_score(y_true, scores),
        "precision": precision_score(y_true, y_pred),
        "recall": recall_score(y_true, y_pred),
        "f1": f1_score(y_true, y_pred),
        "brier_score": brier_score_loss(y_true, scores),
    }
    for feature in dataset.sensitive_features:
        metrics[f"demographic_parity_difference_{feature}"] = (
            demographic_parity_difference(
                y_true, y_pred, sensitive_features=dataset.test[feature]
            )
        )
    return {name: float(value) for name, value in metrics.items()}


def _tags(candidate: _Candidate, dataset: _Dataset, threshold: float) -> dict[str, str]:
    return {
        "decision_threshold": f"{threshold:.6f}",
        "features": ",".join(candidate.features),
        "target": dataset.target,
        "sensitive_features": ",".join(dataset.sensitive_features),
        "pii_columns": ",".join(dataset.pii_columns),
        "timestamp_column": dataset.timestamp_column,
        "algorithm": candidate.algorithm,
        "data_source": dataset.data_source,
        "data_version": str(dataset.data_version),
    }


def _params(model: Pipeline, dataset: _Dataset, threshold: float, seed: int) -> dict:
    classifier = model.named_steps["classifier"].get_params()
    params = {k: v for k, v in classifier.items() if isinstance(v, str | int | float)}
    return params | {
        "decision_threshold": f"{threshold:.6f}",
        "n_train_rows": len(dataset.train),
        "seed": seed,
    }


def _trusted_types(model: Pipeline) -> list[str]:
    """Types skops does not trust by default that this model holds.

    The model was just built here from scikit-learn classes, so trusting its own
    types is safe; MLflow stores the list so that loading needs no extra step.
    """
    import skops.io

    return skops.io.get_untrusted_types(data=skops.io.dumps(model))


def _pip_requirements() -> list[str]:
    """Pinned requirements, given explicitly so MLflow skips its slow inference."""
    import sklearn
    import skops

    return [f"scikit-learn=={sklearn.__version__}", f"skops=={skops.__version__}"]


def _train_and_register(
    client: MlflowClient,
    experiment_id: str,
    dataset: _Dataset,
    candidate: _Candidate,
    seed: int,
) -> DemoVersion:
    import mlflow
    from mlflow.models import infer_signature

    model, threshold = _fit_with_threshold(candidate, dataset, seed)
    metrics = _test_metrics(model, threshold, candidate, dataset)
    tags = _tags(candidate, dataset, threshold)
    example = dataset.train[list(candidate.features)].dropna().head(INPUT_EXAMPLE_ROWS)

    run_name = f"{dataset.model_name}-{candidate.algorithm}"
    with (
        mlflow.start_run(experiment_id=experiment_id, run_name=run_name) as run,
        warnings.catch_warnings(),
    ):
        # The demo's integer columns never hold missing values, so MLflow's hint
        # about integers in the signature does not apply.
        warnings.filterwarnings(
            "ignore",
            message="Hint: Inferred schema contains integer",
            category=UserWarning,
        )
        mlflow.log_params(_params(model, dataset, threshold, seed))
        mlflow.log_metrics(metrics)
        mlflow.set_tags(tags)
        info = mlflow.sklearn.log_model(
            model,
            name=MODEL_ARTIFACT,
            signature=infer_signature(example, model.predict(example)),
            input_example=example,
            skops_trusted_types=_trusted_types(model),
            pip_requirements=_pip_requirements(),
            registered_model_name=dataset.model_name,
        )

    version = str(info.registered_model_version)
    client.update_model_version(dataset.model_name, version, candidate.description)
    for key, value in tags.items():
        client.set_model_version_tag(dataset.model_name, version, key, value)
    logger.info(
        "Registered %s version %s (%s, test AUC %.3f)",
        dataset.model_name,
        version,
        candidate.algorithm,
        metrics["auc"],
    )
    return DemoVersion(
        model_name=dataset.model_name,
        version=version,
        run_id=run.info.run_id,
        model_uri=f"models:/{dataset.model_name}/{version}",
        algorithm=candidate.algorithm,
        features=candidate.features,
        decision_threshold=threshold,
        metrics=metrics,
        train_path=dataset.paths["train"],
        test_path=dataset.paths["test"],
        current_path=dataset.paths["current"],
        target=dataset.target,
        timestamp_column=dataset.timestamp_column,
        sensitive_features=dataset.sensitive_features,
        pii_columns=dataset.pii_columns,
        data_source=dataset.data_source,
        data_version=dataset.data_version,
        description=candidate.description,
    )


def _experiment(client: MlflowClient, name: str, tracking_uri: str) -> str:
    """Id of the experiment ``name``, created with a local artifact folder."""
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    root = _artifact_root(tracking_uri)
    location = (root / name).as_uri() if root is not None else None
    return client.create_experiment(name, artifact_location=location)


def _artifact_root(tracking_uri: str) -> Path | None:
    """The ``artifacts`` folder beside a SQLite store; None for other stores."""
    prefix = "sqlite:///"
    if not tracking_uri.startswith(prefix):
        return None
    database = Path(tracking_uri.removeprefix(prefix))
    return database.parent / "artifacts"
