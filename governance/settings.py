"""Configuration, read once from the environment.

Variables (all optional):

``GOVERNANCE_HOME``
    Data directory: the SQLite store, the MLflow store, the demo's data and the
    evidence artifacts. Defaults to ``data/`` in the working directory.
``GOVERNANCE_DATABASE_URL``
    SQLAlchemy URL of the store; PostgreSQL for a team
    (``postgresql+psycopg://user@host/db``). Defaults to SQLite in the data directory.
``MLFLOW_TRACKING_URI``
    MLflow tracking and registry server. Defaults to a local SQLite-backed store
    in the data directory.
``GOVERNANCE_POLICY``
    Policy file. Defaults to the ``policy.yaml`` shipped with the console.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from governance.policy import DEFAULT_POLICY_PATH


@dataclass(frozen=True)
class Settings:
    """Where the console keeps its records and which policy it enforces."""

    home: Path
    database_url: str
    mlflow_tracking_uri: str
    policy_path: Path

    @property
    def mlflow_artifact_root(self) -> Path:
        """Default artifact location of the local MLflow store."""
        return self.home / "mlflow" / "artifacts"

    @property
    def evidence_dir(self) -> Path:
        """Where assessment artifacts (predictions, SHAP values, reports) go."""
        return self.home / "evidence"

    @property
    def is_sqlite(self) -> bool:
        """Whether the store is the embedded SQLite database."""
        return self.database_url.startswith("sqlite")

    @property
    def uses_local_mlflow(self) -> bool:
        """Whether MLflow runs from the embedded store in the data directory."""
        return self.mlflow_tracking_uri.startswith("sqlite")


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Build settings from ``environ`` (the process environment by default)."""
    env = os.environ if environ is None else environ
    home = Path(env.get("GOVERNANCE_HOME") or "data").expanduser().resolve()
    database_url = (
        env.get("GOVERNANCE_DATABASE_URL") or f"sqlite:///{home / 'governance.db'}"
    )
    mlflow_uri = (
        env.get("MLFLOW_TRACKING_URI") or f"sqlite:///{home / 'mlflow' / 'mlflow.db'}"
    )
    policy_path = Path(env.get("GOVERNANCE_POLICY") or DEFAULT_POLICY_PATH)
    return Settings(
        home=home,
        database_url=database_url,
        mlflow_tracking_uri=mlflow_uri,
        policy_path=policy_path,
    )
