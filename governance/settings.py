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
``GOVERNANCE_AUTH``
    How people sign in: ``demo`` (pick a seeded demo person; only on a server
    listening on localhost), ``local`` (username and password, accounts created
    by an administrator) or ``oidc`` (an OpenID Connect provider configured in
    ``.streamlit/secrets.toml``). Defaults to ``demo``.
``GOVERNANCE_SESSION_IDLE_MINUTES``
    Minutes without activity after which a browser session is signed out.
    Defaults to 30.
``GOVERNANCE_OVERDUE_DAYS``
    Days after which an item in a person's "My work" inbox counts as overdue.
    Defaults to 5.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from governance.errors import InvalidInputError
from governance.policy import DEFAULT_POLICY_PATH

AUTH_MODES = ("demo", "local", "oidc")


@dataclass(frozen=True)
class Settings:
    """Where the console keeps its records and which policy it enforces."""

    home: Path
    database_url: str
    mlflow_tracking_uri: str
    policy_path: Path
    auth_mode: str = "demo"
    session_idle_minutes: int = 30
    overdue_days: int = 5

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


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
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
    auth_mode = (env.get("GOVERNANCE_AUTH") or "demo").strip().lower()
    if auth_mode not in AUTH_MODES:
        raise InvalidInputError(
            f"GOVERNANCE_AUTH is {auth_mode!r}; use one of {', '.join(AUTH_MODES)}."
        )
    return Settings(
        home=home,
        database_url=database_url,
        mlflow_tracking_uri=mlflow_uri,
        policy_path=policy_path,
        auth_mode=auth_mode,
        session_idle_minutes=_positive_int(env, "GOVERNANCE_SESSION_IDLE_MINUTES", 30),
        overdue_days=_positive_int(env, "GOVERNANCE_OVERDUE_DAYS", 5),
    )


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise InvalidInputError(f"{name} is {raw!r}; set it to a whole number above 0.")
    return int(raw)
