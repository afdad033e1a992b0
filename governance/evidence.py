"""Reading stored evidence: what the review pages show, without any model.

An assessment's evidence is a JSON document in the ``assessment`` table plus
artifacts in its folder: ``predictions.parquet`` (row id, split, sensitive
features, timestamp, outcome and score of every test and current row),
``shap/`` (SHAP values of a sample) and ``evidently_drift.html``. Everything here
reads those; nothing loads or runs a model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine
from sqlmodel import col, select

from governance.errors import NotFoundError
from governance.store import read_session
from governance.tables import Assessment, ModelVersion

logger = logging.getLogger(__name__)

PREDICTIONS_FILE = "predictions.parquet"
SHAP_FOLDER = "shap"


@dataclass(frozen=True)
class StoredEvidence:
    """One stored assessment of a model version."""

    assessment_id: int
    model: str
    version: str
    created_at: datetime
    created_by: str
    passed: bool
    risk_level: str | None
    risk_score: float | None
    policy_version: str
    evidence: dict[str, Any]
    artifact_dir: Path | None

    def artifact(self, name: str) -> Path:
        """Path of an artifact of this assessment; NotFoundError when it is gone."""
        if self.artifact_dir is None or not (self.artifact_dir / name).exists():
            raise NotFoundError(
                f"The artifact {name} of assessment {self.assessment_id} is missing from "
                f"{self.artifact_dir}. Assess {self.model} version {self.version} again "
                "to recreate it."
            )
        return self.artifact_dir / name


def _stored(assessment: Assessment, version: ModelVersion) -> StoredEvidence:
    return StoredEvidence(
        assessment_id=assessment.id,  # type: ignore[arg-type]
        model=version.model_name,
        version=version.version,
        created_at=assessment.created_at,
        created_by=assessment.created_by,
        passed=assessment.passed,
        risk_level=assessment.risk_level,
        risk_score=assessment.risk_score,
        policy_version=assessment.policy_version,
        evidence=assessment.evidence or {},
        artifact_dir=Path(assessment.artifact_dir) if assessment.artifact_dir else None,
    )


def latest_evidence(engine: Engine, model: str, version: str) -> StoredEvidence | None:
    """The newest assessment of ``model`` ``version``, or None when never assessed."""
    query = (
        select(Assessment, ModelVersion)
        .join(ModelVersion, col(ModelVersion.id) == col(Assessment.model_version_id))
        .where(ModelVersion.model_name == model, ModelVersion.version == str(version))
        .order_by(col(Assessment.id).desc())
        .limit(1)
    )
    with read_session(engine) as session:
        row = session.exec(query).first()
    return _stored(*row) if row else None


def evidence_by_id(engine: Engine, assessment_id: int) -> StoredEvidence:
    """One assessment by its id."""
    with read_session(engine) as session:
        assessment = session.get(Assessment, assessment_id)
        version = (
            session.get(ModelVersion, assessment.model_version_id)
            if assessment
            else None
        )
    if assessment is None or version is None:
        raise NotFoundError(f"No assessment with id {assessment_id}.")
    return _stored(assessment, version)


def assessment_history(engine: Engine, model: str) -> list[StoredEvidence]:
    """Every assessment of every version of ``model``, oldest first."""
    query = (
        select(Assessment, ModelVersion)
        .join(ModelVersion, col(ModelVersion.id) == col(Assessment.model_version_id))
        .where(ModelVersion.model_name == model)
        .order_by(col(Assessment.id))
    )
    with read_session(engine) as session:
        rows = session.exec(query).all()
    return [_stored(assessment, version) for assessment, version in rows]


def load_predictions(
    stored: StoredEvidence, *, split: str | None = None
) -> pd.DataFrame:
    """Stored scores and outcomes of the test (and current) rows."""
    frame = pd.read_parquet(stored.artifact(PREDICTIONS_FILE))
    return (
        frame
        if split is None
        else frame[frame["split"] == split].reset_index(drop=True)
    )


def load_shap(stored: StoredEvidence) -> Any:
    """The stored SHAP explanation of the assessment's sample (no model, no shap)."""
    from governance.assessment.explain import load_explanation

    return load_explanation(stored.artifact(SHAP_FOLDER))


def evidently_report_path(stored: StoredEvidence) -> Path:
    """The evidently data-drift report (HTML) of the assessment."""
    name = (stored.evidence.get("evidently") or {}).get("artifact")
    if not name:
        raise NotFoundError(
            f"Assessment {stored.assessment_id} has no evidently report: the version "
            "was registered without current data."
        )
    return stored.artifact(name)
