"""The console's own record of governed models and their versions.

MLflow holds the artifacts; the console records which versions it governs, the
data each was registered with, their stage in the workflow, and the evidence and
incidents attached to them. The inventory is computed with SQL aggregates, so it
stays fast with hundreds of models.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, func
from sqlalchemy import select as sql_select
from sqlmodel import col, select

from governance.access import SYSTEM_USER_ID, require_role
from governance.audit import unit_of_work
from governance.errors import ConflictError, InvalidInputError, NotFoundError
from governance.policy import Policy
from governance.store import read_session
from governance.tables import Assessment, GovernedModel, Incident, ModelVersion, User

logger = logging.getLogger(__name__)

STAGES = (
    "development",
    "risk_assessment",
    "compliance_check",
    "approval",
    "deployment",
    "production",
    "withdrawn",
    "retired",
)
STAGE_TITLES = {
    "development": "Development",
    "risk_assessment": "Risk assessment",
    "compliance_check": "Compliance check",
    "approval": "Approval",
    "deployment": "Deployment",
    "production": "Production",
    "withdrawn": "Withdrawn",
    "retired": "Retired",
}
REGISTERING_ROLES = ("data_scientist", "ml_engineer")


@dataclass(frozen=True)
class InventoryRow:
    """One governed model as the inventory lists it."""

    name: str
    description: str | None
    owner: str
    version_count: int
    latest_version: str | None
    stage: str | None
    risk_level: str | None
    last_assessed_at: datetime | None
    open_incidents: int


@dataclass(frozen=True)
class VersionRow:
    """One version of a governed model."""

    id: int
    version: str
    stage: str
    algorithm: str | None
    run_id: str | None
    model_uri: str
    registered_at: datetime
    registered_by: str
    risk_level: str | None
    last_assessed_at: datetime | None
    data_spec: dict[str, Any]


def register_version(
    engine: Engine,
    *,
    actor_id: str,
    policy: Policy,
    name: str,
    version: str,
    model_uri: str,
    owner_id: str,
    run_id: str | None = None,
    algorithm: str | None = None,
    description: str | None = None,
    data_spec: dict[str, Any] | None = None,
) -> int:
    """Put a model version under governance and return its id.

    The model is created on its first version, owned by ``owner_id``. Only a data
    scientist or an ML engineer registers versions.
    """
    if not name.strip() or not version.strip():
        raise InvalidInputError("A model name and a version are both required.")
    with unit_of_work(engine) as work:
        if actor_id != SYSTEM_USER_ID:
            require_role(work.session, actor_id, *REGISTERING_ROLES)
        if work.session.get(User, owner_id) is None:
            raise NotFoundError(
                f"No user with id {owner_id} to own {name}; create the user first."
            )
        model = work.session.get(GovernedModel, name)
        if model is None:
            model = GovernedModel(name=name, owner_id=owner_id, description=description)
            work.session.add(model)
            work.record(
                actor_id=actor_id,
                action="model.registered",
                entity_type="model",
                entity_id=name,
                payload={"owner_id": owner_id},
            )
        duplicate = work.session.exec(
            select(ModelVersion).where(
                ModelVersion.model_name == name, ModelVersion.version == version
            )
        ).first()
        if duplicate is not None:
            raise ConflictError(f"{name} version {version} is already registered.")

        row = ModelVersion(
            model_name=name,
            version=version,
            run_id=run_id,
            model_uri=model_uri,
            algorithm=algorithm,
            data_spec=data_spec or {},
            registered_by=actor_id,
            policy_version=policy.version,
            policy_hash=policy.content_hash,
        )
        work.session.add(row)
        work.session.flush()
        work.record(
            actor_id=actor_id,
            action="version.registered",
            entity_type="model_version",
            entity_id=f"{name}/{version}",
            payload={
                "run_id": run_id,
                "model_uri": model_uri,
                "data_spec": data_spec or {},
                "policy_version": policy.version,
                "policy_hash": policy.content_hash,
            },
        )
        version_id = row.id
    logger.info("Registered %s version %s", name, version)
    assert version_id is not None
    return version_id


def _latest_assessment_ids() -> Any:
    return select(
        Assessment.model_version_id, func.max(col(Assessment.id)).label("assessment_id")
    ).group_by(col(Assessment.model_version_id))


def list_inventory(engine: Engine) -> list[InventoryRow]:
    """Every governed model with its latest version, risk and open incidents."""
    latest_version = (
        select(
            ModelVersion.model_name, func.max(col(ModelVersion.id)).label("version_id")
        )
        .group_by(ModelVersion.model_name)
        .subquery()
    )
    counts = (
        select(ModelVersion.model_name, func.count().label("versions"))
        .group_by(ModelVersion.model_name)
        .subquery()
    )
    latest_assessment = _latest_assessment_ids().subquery()
    incidents = (
        select(
            ModelVersion.model_name,
            func.count(col(Incident.id)).label("open_incidents"),
        )
        .join(Incident, col(Incident.model_version_id) == col(ModelVersion.id))
        .where(Incident.status != "closed")
        .group_by(ModelVersion.model_name)
        .subquery()
    )
    last_assessed = (
        select(
            ModelVersion.model_name,
            func.max(Assessment.created_at).label("assessed_at"),
        )
        .join(Assessment, col(Assessment.model_version_id) == col(ModelVersion.id))
        .group_by(ModelVersion.model_name)
        .subquery()
    )
    query = (
        sql_select(
            col(GovernedModel.name),
            col(GovernedModel.description),
            func.coalesce(col(User.display_name), col(User.username)),
            func.coalesce(counts.c.versions, 0),
            col(ModelVersion.version),
            col(ModelVersion.stage),
            col(Assessment.risk_level),
            last_assessed.c.assessed_at,
            func.coalesce(incidents.c.open_incidents, 0),
        )
        .join(User, col(User.id) == col(GovernedModel.owner_id))
        .outerjoin(counts, counts.c.model_name == GovernedModel.name)
        .outerjoin(latest_version, latest_version.c.model_name == GovernedModel.name)
        .outerjoin(ModelVersion, col(ModelVersion.id) == latest_version.c.version_id)
        .outerjoin(
            latest_assessment, latest_assessment.c.model_version_id == ModelVersion.id
        )
        .outerjoin(Assessment, col(Assessment.id) == latest_assessment.c.assessment_id)
        .outerjoin(last_assessed, last_assessed.c.model_name == GovernedModel.name)
        .outerjoin(incidents, incidents.c.model_name == GovernedModel.name)
        .order_by(GovernedModel.name)
    )
    with read_session(engine) as session:
        rows = session.execute(query).all()
    return [InventoryRow(*row) for row in rows]


def list_versions(engine: Engine, name: str) -> list[VersionRow]:
    """Every version of ``name``, newest first, with its latest assessment."""
    latest = _latest_assessment_ids().subquery()
    query = (
        select(ModelVersion, Assessment.risk_level, Assessment.created_at)
        .outerjoin(latest, latest.c.model_version_id == ModelVersion.id)
        .outerjoin(Assessment, and_(Assessment.id == latest.c.assessment_id))
        .where(ModelVersion.model_name == name)
        .order_by(ModelVersion.id.desc())  # type: ignore[union-attr]
    )
    with read_session(engine) as session:
        if session.get(GovernedModel, name) is None:
            raise NotFoundError(f"No governed model named {name!r}.")
        rows = session.exec(query).all()
    return [
        VersionRow(
            id=row.id,  # type: ignore[arg-type]
            version=row.version,
            stage=row.stage,
            algorithm=row.algorithm,
            run_id=row.run_id,
            model_uri=row.model_uri,
            registered_at=row.registered_at,
            registered_by=row.registered_by,
            risk_level=risk_level,
            last_assessed_at=assessed_at,
            data_spec=row.data_spec or {},
        )
        for row, risk_level, assessed_at in rows
    ]


def get_model(engine: Engine, name: str) -> GovernedModel:
    """The governed model named ``name``."""
    with read_session(engine) as session:
        model = session.get(GovernedModel, name)
    if model is None:
        raise NotFoundError(f"No governed model named {name!r}.")
    return model


def filter_inventory(
    rows: list[InventoryRow],
    *,
    text: str = "",
    stages: tuple[str, ...] = (),
    risk_levels: tuple[str, ...] = (),
) -> list[InventoryRow]:
    """Rows matching a search text, stages and risk levels.

    A row matches when its name, description or owner contains ``text`` (any
    case) and its stage and risk level are among those given (all when none are).

    ``"unassessed"`` in ``risk_levels`` selects models without an assessment.
    """
    needle = text.strip().lower()

    def matches(row: InventoryRow) -> bool:
        haystack = " ".join(
            filter(None, (row.name, row.description, row.owner))
        ).lower()
        risk = row.risk_level or "unassessed"
        return (
            (not needle or needle in haystack)
            and (not stages or row.stage in stages)
            and (not risk_levels or risk in risk_levels)
        )

    return [row for row in rows if matches(row)]
