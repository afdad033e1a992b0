"""Bringing a model under governance: ``python -m governance register``.

Registration reads nothing but metadata from MLflow (the model's MLmodel file
and its run), reads and fingerprints the data it names, detects PII columns, and
records the version with everything an assessment later needs. It never loads
the model: that happens only in the assessment job.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Engine
from sqlmodel import select

from governance.assessment.pii import detect_pii
from governance.datasets import DatasetRef, read_dataset
from governance.errors import InvalidInputError, NotFoundError
from governance.inventory import register_version
from governance.policy import Policy
from governance.settings import Settings
from governance.store import read_session
from governance.tables import User

logger = logging.getLogger(__name__)

DEFAULT_DECISION_THRESHOLD = 0.5


@dataclass(frozen=True)
class RegistrationRequest:
    """What a data scientist states about a model version and its data."""

    name: str
    model_uri: str
    train: str
    test: str
    target: str
    sensitive_features: tuple[str, ...]
    current: str | None = None
    pii_columns: tuple[str, ...] = ()
    timestamp: str | None = None
    owner: str | None = None
    features: tuple[str, ...] = ()
    decision_threshold: float | None = None
    description: str | None = None


@dataclass(frozen=True)
class ModelMetadata:
    """What MLflow says about a logged model, read without loading it."""

    version: str
    run_id: str | None
    features: tuple[str, ...]
    flavors: tuple[str, ...]
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    git_commit: str | None = None
    algorithm: str | None = None


@dataclass(frozen=True)
class Registration:
    """The outcome of a registration, for the CLI to report."""

    version_id: int
    name: str
    version: str
    features: tuple[str, ...]
    pii_columns: tuple[str, ...]
    detected_pii: tuple[str, ...]
    datasets: dict[str, DatasetRef]


def read_model_metadata(settings: Settings, model_uri: str) -> ModelMetadata:
    """Version, run, input features and flavours of a logged model, without loading it.

    Raises
    ------
    NotFoundError
        When MLflow has no model at ``model_uri``.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    mlflow.set_registry_uri(settings.mlflow_tracking_uri)
    try:
        info = mlflow.models.get_model_info(model_uri)
        version = _registered_version(model_uri)
    except (MlflowException, OSError) as exc:
        raise NotFoundError(
            f"MLflow has no model at {model_uri} ({_first_line(exc)}). Check the URI: "
            "models:/NAME/VERSION, models:/NAME@ALIAS or runs:/RUN_ID/PATH."
        ) from exc
    inputs = info.signature.inputs.input_names() if info.signature else []
    run = _run(info.run_id)
    return ModelMetadata(
        version=version or (info.run_id or "1")[:8],
        run_id=info.run_id,
        features=tuple(str(name) for name in inputs),
        flavors=tuple(info.flavors),
        tags=run.get("tags", {}),
        params=run.get("params", {}),
        git_commit=run.get("tags", {}).get("mlflow.source.git.commit"),
        algorithm=run.get("tags", {}).get("algorithm"),
    )


def _registered_version(model_uri: str) -> str | None:
    from mlflow.tracking import MlflowClient

    if not model_uri.startswith("models:/"):
        return None
    reference = model_uri.removeprefix("models:/").strip("/")
    client = MlflowClient()
    if "@" in reference:
        name, alias = reference.split("@", 1)
        return str(client.get_model_version_by_alias(name, alias).version)
    name, _, version = reference.partition("/")
    if version.isdigit():
        return version
    raise InvalidInputError(
        f"{model_uri} names no version; use models:/{name}/VERSION or @ALIAS."
    )


def _run(run_id: str | None) -> dict[str, dict[str, str]]:
    from mlflow.tracking import MlflowClient

    if not run_id:
        return {}
    run = MlflowClient().get_run(run_id)
    return {"tags": dict(run.data.tags), "params": dict(run.data.params)}


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def check_target(frame: pd.DataFrame, target: str, *, dataset: str) -> None:
    """Raise unless ``target`` is a binary 0/1 column with both classes."""
    if target not in frame.columns:
        raise InvalidInputError(
            f"The {dataset} data has no target column {target!r}; its columns are "
            f"{', '.join(map(str, frame.columns[:20]))}."
        )
    values = set(frame[target].dropna().unique().tolist())
    if not values <= {0, 1}:
        shown = ", ".join(map(str, sorted(values, key=str)[:5]))
        raise InvalidInputError(
            f"The target {target!r} in the {dataset} data must be binary (0/1); it holds {shown}."
        )
    if len(values) < 2:
        raise InvalidInputError(
            f"The target {target!r} in the {dataset} data has a single class; "
            "performance and fairness need both outcomes."
        )


def check_columns(
    frame: pd.DataFrame, columns: tuple[str, ...], *, what: str, dataset: str
) -> None:
    """Raise naming the ``columns`` that ``frame`` lacks."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"The {dataset} data lacks the {what} column(s) {', '.join(missing)}. "
            "Check the names (they are case-sensitive)."
        )


def register_model(
    settings: Settings,
    engine: Engine,
    policy: Policy,
    request: RegistrationRequest,
    *,
    actor_id: str,
) -> Registration:
    """Validate a model version and its data, then record it under governance."""
    metadata = read_model_metadata(settings, request.model_uri)
    frames, refs = _read_all(request)
    features = (
        request.features
        or metadata.features
        or _default_features(frames["train"], request)
    )
    _validate(frames, request, features)

    detected = tuple(
        finding.column
        for finding in detect_pii(frames["train"])
        if finding.column not in request.pii_columns
    )
    pii_columns = tuple(dict.fromkeys((*request.pii_columns, *detected)))
    threshold = request.decision_threshold
    if threshold is None:
        threshold = float(
            metadata.tags.get("decision_threshold") or DEFAULT_DECISION_THRESHOLD
        )
    if not 0.0 < threshold < 1.0:
        raise InvalidInputError(
            f"The decision threshold must lie between 0 and 1, not {threshold}."
        )

    data_spec: dict[str, Any] = {
        **{part: ref.to_dict() for part, ref in refs.items()},
        "target": request.target,
        "features": list(features),
        "sensitive_features": list(request.sensitive_features),
        "pii_columns": list(pii_columns),
        "detected_pii": list(detected),
        "timestamp": request.timestamp,
        "decision_threshold": threshold,
        "flavors": list(metadata.flavors),
        "params": dict(metadata.params),
        "architecture": metadata.tags.get("architecture") or metadata.algorithm,
        "git_commit": metadata.git_commit,
        "data_source": metadata.tags.get("data_source"),
        "data_version": metadata.tags.get("data_version"),
    }
    owner_id = _user_id(engine, request.owner) if request.owner else actor_id
    version_id = register_version(
        engine,
        actor_id=actor_id,
        policy=policy,
        name=request.name,
        version=metadata.version,
        model_uri=request.model_uri,
        owner_id=owner_id,
        run_id=metadata.run_id,
        algorithm=metadata.algorithm,
        description=request.description,
        data_spec=data_spec,
    )
    return Registration(
        version_id=version_id,
        name=request.name,
        version=metadata.version,
        features=tuple(features),
        pii_columns=pii_columns,
        detected_pii=detected,
        datasets=refs,
    )


def _read_all(
    request: RegistrationRequest,
) -> tuple[dict[str, pd.DataFrame], dict[str, DatasetRef]]:
    frames, refs = {}, {}
    parts = {"train": request.train, "test": request.test, "current": request.current}
    for part, reference in parts.items():
        if reference:
            frames[part], refs[part] = read_dataset(reference)
    if "current" in frames and frames["current"].empty:
        raise InvalidInputError(
            "The current data is empty; give a file with rows, or leave --current out."
        )
    return frames, refs


def _default_features(
    train: pd.DataFrame, request: RegistrationRequest
) -> tuple[str, ...]:
    excluded = {request.target, request.timestamp, *request.pii_columns}
    return tuple(str(column) for column in train.columns if column not in excluded)


def _validate(
    frames: dict[str, pd.DataFrame],
    request: RegistrationRequest,
    features: tuple[str, ...],
) -> None:
    if not request.sensitive_features:
        raise InvalidInputError(
            "Name at least one sensitive feature (--sensitive) to assess disparities."
        )
    for part, frame in frames.items():
        check_columns(frame, tuple(features), what="feature", dataset=part)
        check_columns(frame, request.sensitive_features, what="sensitive", dataset=part)
        if part != "current":
            check_target(frame, request.target, dataset=part)
        if request.timestamp:
            check_columns(frame, (request.timestamp,), what="timestamp", dataset=part)


def _user_id(engine: Engine, username: str) -> str:
    with read_session(engine) as session:
        user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFoundError(
            f"No user named {username!r}; list people with `python -m governance users`."
        )
    return user.id
