"""Read-only adapter over the MLflow model registry.

The console lists registered models, versions, runs, parameters, metrics, tags
and aliases through this module. It never loads a model object: loading a model
runs code from its artifacts, and the console must stay safe to open on any
registry. Models are loaded only by the assessment job, in its own process.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from governance.errors import NotFoundError, StoreUnavailableError
from governance.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RegisteredModelInfo:
    """A registered model as MLflow knows it."""

    name: str
    description: str
    tags: dict[str, str]
    aliases: dict[str, str]
    latest_version: str | None


@dataclass(frozen=True)
class ModelVersionInfo:
    """One registered version and where it came from."""

    name: str
    version: str
    run_id: str | None
    source: str
    status: str
    description: str
    tags: dict[str, str]
    aliases: tuple[str, ...]
    created_at: datetime


@dataclass(frozen=True)
class RunInfo:
    """The MLflow run a version was logged from."""

    run_id: str
    experiment_id: str
    status: str
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def git_commit(self) -> str | None:
        """The git commit of the training code, when MLflow recorded one."""
        return self.tags.get("mlflow.source.git.commit")


class Registry:
    """The MLflow registry at the settings' tracking URI."""

    def __init__(self, settings: Settings) -> None:
        self._uri = settings.mlflow_tracking_uri
        self._client: Any = None
        if settings.uses_local_mlflow:
            path = Path(self._uri.split("///", 1)[-1])
            if not path.exists():
                raise StoreUnavailableError(
                    f"No MLflow store at {path}. Build the demo with "
                    "`python -m governance demo`, or set MLFLOW_TRACKING_URI to your "
                    "tracking server."
                )

    @property
    def client(self) -> Any:
        """The MLflow client, created (and mlflow imported) on first use."""
        if self._client is None:
            from mlflow.tracking import MlflowClient

            self._client = MlflowClient(tracking_uri=self._uri, registry_uri=self._uri)
        return self._client

    def models(self) -> list[RegisteredModelInfo]:
        """Every registered model, by name."""
        found = self._call(lambda: list(self.client.search_registered_models()))
        return sorted(
            (_model_info(model) for model in found), key=lambda info: info.name
        )

    def versions(self, name: str) -> list[ModelVersionInfo]:
        """Every version of ``name``, newest first."""
        found = self._call(
            lambda: self.client.search_model_versions(f"name = '{_quote(name)}'")
        )
        infos = [_version_info(version) for version in found]
        return sorted(infos, key=lambda info: int(info.version), reverse=True)

    def version(self, name: str, version: str) -> ModelVersionInfo:
        """One version of ``name``."""
        return _version_info(
            self._call(lambda: self.client.get_model_version(name, version))
        )

    def run(self, run_id: str) -> RunInfo:
        """The run ``run_id`` with its parameters, metrics and tags."""
        run = self._call(lambda: self.client.get_run(run_id))
        return RunInfo(
            run_id=run.info.run_id,
            experiment_id=run.info.experiment_id,
            status=run.info.status,
            params=dict(run.data.params),
            metrics={key: float(value) for key, value in run.data.metrics.items()},
            tags=dict(run.data.tags),
        )

    def _call(self, action: Any) -> Any:
        from mlflow.exceptions import MlflowException

        try:
            return action()
        except MlflowException as exc:
            if getattr(exc, "error_code", "") == "RESOURCE_DOES_NOT_EXIST":
                raise NotFoundError(f"MLflow has no such entry: {exc.message}") from exc
            raise StoreUnavailableError(
                f"The MLflow registry at {self._uri} failed: {exc.message}. "
                "Check MLFLOW_TRACKING_URI and that the server is running."
            ) from exc


def _quote(name: str) -> str:
    return name.replace("'", "\\'")


def _model_info(model: Any) -> RegisteredModelInfo:
    latest = max((int(v.version) for v in model.latest_versions or []), default=None)
    return RegisteredModelInfo(
        name=model.name,
        description=model.description or "",
        tags=dict(model.tags or {}),
        aliases=dict(model.aliases or {}),
        latest_version=str(latest) if latest is not None else None,
    )


def _version_info(version: Any) -> ModelVersionInfo:
    return ModelVersionInfo(
        name=version.name,
        version=str(version.version),
        run_id=version.run_id,
        source=version.source,
        status=version.status,
        description=version.description or "",
        tags=dict(version.tags or {}),
        aliases=tuple(version.aliases or ()),
        created_at=datetime.fromtimestamp(version.creation_timestamp / 1000, tz=UTC),
    )
