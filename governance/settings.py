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
``GOVERNANCE_AUDIT_CHECKPOINTS``
    Folder of the audit trail's signed checkpoints, kept apart from the database.
    Defaults to ``audit-checkpoints/`` in the data directory.
``GOVERNANCE_AUDIT_KEY``
    Secret key (text) that signs audit checkpoints and exports. Without it a key
    file is created once, mode 0600, beside the checkpoints; in production keep
    the key elsewhere (a secret store) so whoever can rewrite the database and
    the checkpoints cannot also sign them.

Alert channels (none configured: alerts are stored and shown in the app only):

``GOVERNANCE_SMTP_HOST``, ``GOVERNANCE_SMTP_PORT`` (587), ``GOVERNANCE_SMTP_FROM``,
``GOVERNANCE_SMTP_TO`` (comma-separated), ``GOVERNANCE_SMTP_USER``,
``GOVERNANCE_SMTP_PASSWORD``, ``GOVERNANCE_SMTP_STARTTLS`` (``true``)
    E-mail alerts through an SMTP server; with a host set, sender and recipients
    are required.
``GOVERNANCE_ALERT_WEBHOOK_URL``
    Alerts as a JSON POST to this http(s) URL.
``GOVERNANCE_ALERT_TIMEOUT_SECONDS``
    How long one network step of a delivery may wait (connect, each reply), at
    most 60. Defaults to 10.

The SMTP password and the webhook URL (which often embeds a token) may instead be
kept as ``smtp_password`` and ``webhook_url`` in the ``[alerts]`` section of
``.streamlit/secrets.toml`` (or the file named by ``GOVERNANCE_SECRETS_FILE``); the
environment wins.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from governance.errors import InvalidInputError
from governance.policy import DEFAULT_POLICY_PATH

AUTH_MODES = ("demo", "local", "oidc")
DEFAULT_SECRETS_FILE = Path(".streamlit") / "secrets.toml"
# One network step of an alert delivery may take this long at most: an SMTP
# exchange has about ten steps, which keeps one attempt inside the claim lease
# (policy alerts.delivery_claim_minutes).
MAX_ALERT_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class SmtpChannel:
    """An SMTP server that e-mails alerts to a fixed list of recipients."""

    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = True


@dataclass(frozen=True)
class AlertChannels:
    """Where alerts are delivered; empty means stored and shown in the app only."""

    smtp: SmtpChannel | None = None
    webhook_url: str | None = field(default=None, repr=False)
    timeout_seconds: float = 10.0

    def destinations(self) -> dict[str, str]:
        """Each configured channel with a destination safe to store and show."""
        found = {}
        if self.smtp is not None:
            found["email"] = ", ".join(self.smtp.recipients)
        if self.webhook_url:
            # Only scheme and host: the path and query often carry a token.
            parts = urlsplit(self.webhook_url)
            found["webhook"] = f"{parts.scheme}://{parts.hostname}"
        return found


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
    alert_channels: AlertChannels = AlertChannels()
    audit_checkpoints: Path | None = None
    audit_key: str | None = field(default=None, repr=False)

    @property
    def mlflow_artifact_root(self) -> Path:
        """Default artifact location of the local MLflow store."""
        return self.home / "mlflow" / "artifacts"

    @property
    def audit_checkpoint_dir(self) -> Path:
        """Where signed audit checkpoints are written (outside the database)."""
        return self.audit_checkpoints or self.home / "audit-checkpoints"

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
        alert_channels=_alert_channels(env),
        audit_checkpoints=(
            Path(env["GOVERNANCE_AUDIT_CHECKPOINTS"]).expanduser().resolve()
            if env.get("GOVERNANCE_AUDIT_CHECKPOINTS")
            else None
        ),
        audit_key=env.get("GOVERNANCE_AUDIT_KEY") or None,
    )


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise InvalidInputError(f"{name} is {raw!r}; set it to a whole number above 0.")
    return int(raw)


def _alert_channels(env: Mapping[str, str]) -> AlertChannels:
    secrets = _alert_secrets(env)
    webhook = (env.get("GOVERNANCE_ALERT_WEBHOOK_URL") or "").strip() or str(
        secrets.get("webhook_url") or ""
    ).strip()
    if webhook and urlsplit(webhook).scheme not in ("http", "https"):
        raise InvalidInputError(
            "GOVERNANCE_ALERT_WEBHOOK_URL must be an http:// or https:// URL."
        )
    raw_timeout = (env.get("GOVERNANCE_ALERT_TIMEOUT_SECONDS") or "10").strip()
    try:
        timeout = float(raw_timeout)
    except ValueError:
        timeout = 0.0
    if not 0 < timeout <= MAX_ALERT_TIMEOUT_SECONDS:
        raise InvalidInputError(
            f"GOVERNANCE_ALERT_TIMEOUT_SECONDS is {raw_timeout!r}; set it to a number "
            f"of seconds above 0 and at most {MAX_ALERT_TIMEOUT_SECONDS}."
        )
    return AlertChannels(
        smtp=_smtp_channel(env, secrets),
        webhook_url=webhook or None,
        timeout_seconds=timeout,
    )


def _smtp_channel(
    env: Mapping[str, str], secrets: dict[str, Any]
) -> SmtpChannel | None:
    host = (env.get("GOVERNANCE_SMTP_HOST") or "").strip()
    if not host:
        return None
    sender = (env.get("GOVERNANCE_SMTP_FROM") or "").strip()
    recipients = tuple(
        address.strip()
        for address in (env.get("GOVERNANCE_SMTP_TO") or "").split(",")
        if address.strip()
    )
    if not sender or not recipients:
        raise InvalidInputError(
            "GOVERNANCE_SMTP_HOST is set, so set GOVERNANCE_SMTP_FROM (the sender) "
            "and GOVERNANCE_SMTP_TO (comma-separated recipients) too."
        )
    starttls = (env.get("GOVERNANCE_SMTP_STARTTLS") or "true").strip().lower()
    if starttls not in ("true", "false", "1", "0", "yes", "no"):
        raise InvalidInputError(
            f"GOVERNANCE_SMTP_STARTTLS is {starttls!r}; set it to true or false."
        )
    password = env.get("GOVERNANCE_SMTP_PASSWORD") or secrets.get("smtp_password")
    return SmtpChannel(
        host=host,
        port=_positive_int(env, "GOVERNANCE_SMTP_PORT", 587),
        sender=sender,
        recipients=recipients,
        username=(env.get("GOVERNANCE_SMTP_USER") or "").strip() or None,
        password=str(password) if password else None,
        starttls=starttls in ("true", "1", "yes"),
    )


def _alert_secrets(env: Mapping[str, str]) -> dict[str, Any]:
    path = Path(env.get("GOVERNANCE_SECRETS_FILE") or DEFAULT_SECRETS_FILE)
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInputError(
            f"Cannot read the secrets file {path} ({exc}). Fix its TOML syntax."
        ) from exc
    section = document.get("alerts", {})
    return section if isinstance(section, dict) else {}
