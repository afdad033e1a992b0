"""What the sign-off pages need beyond the workflow's own functions.

Fetching a version's artifacts for the security scan (bytes only: the console
never loads a model), the registry writer the rollout mirrors to, the evidence
snapshot a reviewer approves, and who the ids in the records are.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from governance.access import list_people
from governance.errors import NotFoundError, StoreUnavailableError
from governance.evidence import evidence_by_id
from governance.policy import Policy
from governance.settings import Settings
from governance.store import read_session
from governance.tables import ModelVersion
from governance.workflow import (
    InboxItem,
    MlflowRegistryWriter,
    RegistryWriter,
    RequestView,
    record_security_assessment,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StandardRow:
    """One standard of the evidence as a reviewer reads it."""

    name: str
    value: str
    threshold: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class EvidenceSnapshot:
    """The evidence an approval request is bound to."""

    assessment_id: int
    assessed_at: datetime
    risk_level: str | None
    risk_score: float | None
    risk_drivers: dict[str, str]
    standards: tuple[StandardRow, ...]
    artifact_digest: str | None
    policy_version: str

    @property
    def failed_standards(self) -> tuple[StandardRow, ...]:
        """The standards that were not met."""
        return tuple(row for row in self.standards if not row.passed)


def mlflow_is_reachable(settings: Settings) -> bool:
    """Whether the settings' MLflow registry exists (a remote one is assumed up)."""
    if not settings.uses_local_mlflow:
        return True
    return Path(settings.mlflow_tracking_uri.split("///", 1)[-1]).exists()


def registry_writer(settings: Settings) -> RegistryWriter | None:
    """The MLflow writer rollout steps are mirrored to, or None without MLflow."""
    if not mlflow_is_reachable(settings):
        logger.warning("No MLflow store at %s: rollout not mirrored", settings.home)
        return None
    return MlflowRegistryWriter(settings.mlflow_tracking_uri)


def fetch_model_artifacts(settings: Settings, model_uri: str, folder: Path) -> Path:
    """Download a version's artifact files into ``folder`` without loading them.

    Raises
    ------
    StoreUnavailableError
        When there is no MLflow store.
    NotFoundError
        When MLflow has no such model.
    """
    if not mlflow_is_reachable(settings):
        raise StoreUnavailableError(
            f"No MLflow store under {settings.home}: the artifacts of {model_uri} "
            "cannot be fetched. Set MLFLOW_TRACKING_URI or build the demo."
        )
    import mlflow
    from mlflow.exceptions import MlflowException

    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    mlflow.set_registry_uri(settings.mlflow_tracking_uri)
    try:
        return Path(
            mlflow.artifacts.download_artifacts(
                artifact_uri=model_uri, dst_path=str(folder)
            )
        )
    except (MlflowException, OSError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise NotFoundError(f"Cannot fetch the model at {model_uri}: {first}") from exc


def assess_security(
    settings: Settings,
    engine: Engine,
    policy: Policy,
    *,
    actor_id: str,
    version_id: int,
    answers: Mapping[str, Any],
    note: str = "",
) -> int:
    """Fetch the version's artifacts, scan them and record the security assessment.

    Returns
    -------
    int
        The id of the stored security assessment.
    """
    with read_session(engine) as session:
        version = session.get(ModelVersion, version_id)
        if version is None:
            raise NotFoundError(f"No model version with id {version_id}.")
        model_uri = version.model_uri
    with tempfile.TemporaryDirectory() as scratch:
        folder = fetch_model_artifacts(settings, model_uri, Path(scratch))
        return record_security_assessment(
            engine,
            actor_id=actor_id,
            policy=policy,
            version_id=version_id,
            artifact_dir=folder,
            answers=answers,
            note=note,
        )


def evidence_snapshot(engine: Engine, request: RequestView) -> EvidenceSnapshot:
    """The assessment a request is bound to, as the reviewer approves it."""
    stored = evidence_by_id(engine, int(str(request.binding["assessment_id"])))
    risk = stored.evidence.get("risk") or {}
    return EvidenceSnapshot(
        assessment_id=stored.assessment_id,
        assessed_at=stored.created_at,
        risk_level=stored.risk_level,
        risk_score=stored.risk_score,
        risk_drivers={str(k): str(v) for k, v in (risk.get("drivers") or {}).items()},
        standards=tuple(
            _standard_row(item) for item in stored.evidence.get("standards") or []
        ),
        artifact_digest=_text(request.binding.get("artifact_digest")) or None,
        policy_version=_text(request.binding.get("policy_version")),
    )


def _standard_row(item: Mapping[str, Any]) -> StandardRow:
    return StandardRow(
        name=_text(item.get("name")),
        value=_number(item.get("value")),
        threshold=_number(item.get("threshold")),
        passed=item.get("passed") is True,
        detail=_text(item.get("detail")),
    )


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return _text(value)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def display_names(engine: Engine) -> dict[str, str]:
    """Every user id (the system included) to the name people know them by."""
    return {
        person.id: person.display_name
        for person in list_people(engine, include_system=True)
    }


def is_overdue(item: InboxItem, now: datetime, overdue_days: int) -> bool:
    """Whether an inbox item has waited longer than ``overdue_days``."""
    return now - item.waiting_since > timedelta(days=overdue_days)


@dataclass(frozen=True)
class SignoffDone:
    """A stage sign-off recorded in the version's current cycle."""

    kind: str
    signed_by: str
    signed_at: datetime
    note: str


def signoffs_done(engine: Engine, version_id: int) -> dict[str, SignoffDone]:
    """The version's sign-offs in its current cycle, by kind."""
    from governance.workflow._state import current_cycle, signoffs

    with read_session(engine) as session:
        rows = signoffs(session, version_id, current_cycle(session, version_id))
    return {
        kind: SignoffDone(kind, row.signed_by, row.signed_at, row.note)
        for kind, row in rows.items()
    }


def has_security_assessment(engine: Engine, version_id: int) -> bool:
    """Whether the version has a security assessment in its current cycle."""
    from governance.workflow._state import current_cycle, latest_security_assessment

    with read_session(engine) as session:
        cycle = current_cycle(session, version_id)
        return latest_security_assessment(session, version_id, cycle) is not None
