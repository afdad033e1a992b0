"""Reading and changing a version's place in the workflow, inside a transaction."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from governance.audit import UnitOfWork
from governance.errors import ConflictError, InvalidInputError, NotFoundError
from governance.tables import Assessment, ModelVersion, utc_now
from governance.workflow_tables import SecurityAssessment, StageSignoff, WorkflowState

logger = logging.getLogger(__name__)

STAGE_FLOW = (
    "development",
    "risk_assessment",
    "compliance_check",
    "approval",
    "deployment",
    "production",
)
EXIT_STAGES = ("withdrawn", "retired")
ALL_STAGES = (*STAGE_FLOW, *EXIT_STAGES)


def load_version(session: Session, version_id: int) -> ModelVersion:
    """The model version ``version_id``, or a NotFoundError."""
    version = session.get(ModelVersion, version_id)
    if version is None:
        raise NotFoundError(
            f"No model version with id {version_id}; pick one from the inventory."
        )
    return version


def check_row_version(
    version: ModelVersion | object, expected: int | None, *, what: str
) -> None:
    """Raise ConflictError when the row changed since the caller read it."""
    current = getattr(version, "row_version")  # noqa: B009  (two row types)
    if expected is not None and current != expected:
        raise ConflictError(
            f"{what} changed since you opened it (version {expected}, now {current}); "
            "reload the page and decide again."
        )


def state_of(session: Session, version: ModelVersion) -> WorkflowState:
    """The version's workflow state, created on first use."""
    assert version.id is not None
    state = session.get(WorkflowState, version.id)
    if state is None:
        state = WorkflowState(
            model_version_id=version.id, stage_entered_at=version.registered_at
        )
        session.add(state)
    return state


def current_cycle(session: Session, version_id: int) -> int:
    """The version's cycle (1, plus one per return to development)."""
    state = session.get(WorkflowState, version_id)
    return state.cycle if state is not None else 1


def set_stage(
    work: UnitOfWork,
    *,
    actor_id: str,
    version: ModelVersion,
    stage: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> None:
    """Move ``version`` to ``stage`` and record the move.

    A return to development opens a new cycle, so sign-offs and checklist ticks
    are asked for again.
    """
    if stage not in ALL_STAGES:
        raise InvalidInputError(f"Unknown stage {stage!r}; use one of {ALL_STAGES}.")
    state = state_of(work.session, version)
    previous = version.stage
    if stage == "development" and previous != "development":
        state.cycle += 1
    state.stage_entered_at = now or utc_now()
    state.stage_reason = reason
    version.stage = stage
    version.row_version += 1
    work.session.add_all([state, version])
    work.record(
        actor_id=actor_id,
        action="version.stage_changed",
        entity_type="model_version",
        entity_id=str(version.id),
        payload={
            "model": version.model_name,
            "version": version.version,
            "from": previous,
            "to": stage,
            "cycle": state.cycle,
            "reason": reason,
        },
    )
    logger.info(
        "%s version %s: %s -> %s", version.model_name, version.version, previous, stage
    )


def bump(work: UnitOfWork, version: ModelVersion) -> None:
    """Count a change to the version's workflow records (for optimistic checks)."""
    version.row_version += 1
    work.session.add(version)


def latest_assessment(session: Session, version_id: int) -> Assessment | None:
    """The newest assessment of the version."""
    return session.exec(
        select(Assessment)
        .where(Assessment.model_version_id == version_id)
        .order_by(col(Assessment.id).desc())
        .limit(1)
    ).first()


def latest_security_assessment(
    session: Session, version_id: int, cycle: int | None = None
) -> SecurityAssessment | None:
    """The newest security assessment of the version (in ``cycle`` when given)."""
    query = select(SecurityAssessment).where(
        SecurityAssessment.model_version_id == version_id
    )
    if cycle is not None:
        query = query.where(SecurityAssessment.cycle == cycle)
    return session.exec(
        query.order_by(col(SecurityAssessment.id).desc()).limit(1)
    ).first()


def signoffs(session: Session, version_id: int, cycle: int) -> dict[str, StageSignoff]:
    """The version's sign-offs in ``cycle``, by kind."""
    rows = session.exec(
        select(StageSignoff).where(
            StageSignoff.model_version_id == version_id, StageSignoff.cycle == cycle
        )
    ).all()
    return {row.kind: row for row in rows}


def artifact_digest_of(assessment: Assessment | None) -> str | None:
    """The model-artifact SHA-256 an assessment was computed on."""
    if assessment is None:
        return None
    artifacts = (assessment.evidence or {}).get("model_artifacts") or {}
    digest = artifacts.get("sha256")
    return str(digest) if digest else None


def as_utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC time (SQLite may hand back naive times)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def require_text(value: str | None, *, field: str) -> str:
    """``value`` stripped, or an InvalidInputError naming the empty field."""
    text = (value or "").strip()
    if not text:
        raise InvalidInputError(f"The {field} is empty; write it before submitting.")
    return text
