"""Staged deployment (framework, "Stage 5: Deployment").

staging -> shadow (at least ``policy.deployment.shadow_min_days``) -> canary at
each of ``policy.deployment.canary_percentages`` -> production, each step taken by
an ML engineer, in order, recorded and audited. Leaving shadow and each canary
step needs that step's latest shadow or canary evidence, computed from the
serving platform's prediction log, to pass the policy
(``governance.operations.serving``). Each step is asked for by name,
so a double click cannot skip a step: the second click asks for a step already
taken and is refused. The deployment gate is checked before every step.

Each step is mirrored to the model registry as aliases and tags so MLflow users
see it, through a `RegistryWriter`; the call happens inside the transaction, so a
registry failure leaves the store unchanged. One action rolls back to the
previous production version.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from governance.audit import UnitOfWork, unit_of_work
from governance.errors import (
    InvalidInputError,
    NotFoundError,
    StoreUnavailableError,
    WorkflowBlockedError,
)
from governance.policy import Policy
from governance.serving_tables import ServingEvidence
from governance.store import read_session
from governance.tables import ModelVersion, utc_now
from governance.workflow._state import (
    as_utc,
    check_row_version,
    load_version,
    require_text,
    set_stage,
)
from governance.workflow.changes import production_version
from governance.workflow.checklists import gate_blockers
from governance.workflow.permissions import require_permission
from governance.workflow_tables import RolloutStep

logger = logging.getLogger(__name__)

TAG_STEP = "governance.rollout_step"
TAG_STAGE = "governance.stage"


class RegistryWriter(Protocol):
    """Where rollout steps are mirrored (MLflow aliases and version tags)."""

    def set_alias(self, name: str, alias: str, version: str) -> None:
        """Point ``alias`` of model ``name`` at ``version``."""

    def set_tag(self, name: str, version: str, key: str, value: str) -> None:
        """Set a tag on one model version."""


class MlflowRegistryWriter:
    """A `RegistryWriter` on an MLflow tracking/registry URI (mlflow imported lazily)."""

    def __init__(self, tracking_uri: str) -> None:
        self._uri = tracking_uri
        self._client: object | None = None

    def _mlflow(self):  # type: ignore[no-untyped-def]
        if self._client is None:
            from mlflow.tracking import MlflowClient

            self._client = MlflowClient(tracking_uri=self._uri, registry_uri=self._uri)
        return self._client

    def set_alias(self, name: str, alias: str, version: str) -> None:
        """Point ``alias`` of model ``name`` at ``version`` in MLflow."""
        self._call(
            lambda: self._mlflow().set_registered_model_alias(name, alias, version)
        )

    def set_tag(self, name: str, version: str, key: str, value: str) -> None:
        """Set a tag on one MLflow model version."""
        self._call(
            lambda: self._mlflow().set_model_version_tag(name, version, key, value)
        )

    def _call(self, action) -> None:  # type: ignore[no-untyped-def]
        from mlflow.exceptions import MlflowException

        try:
            action()
        except MlflowException as exc:
            raise StoreUnavailableError(
                f"MLflow at {self._uri} refused the rollout mirror: {exc.message}. "
                "Nothing was recorded; check the registry and try the step again."
            ) from exc


@dataclass(frozen=True)
class RolloutTarget:
    """One step of the rollout plan."""

    step: str
    percentage: int | None = None

    @property
    def label(self) -> str:
        """The step as people and MLflow tags name it, e.g. ``canary-50``."""
        return (
            self.step if self.percentage is None else f"{self.step}-{self.percentage}"
        )


def rollout_plan(policy: Policy) -> tuple[RolloutTarget, ...]:
    """The policy's steps in order, one canary step per percentage."""
    plan: list[RolloutTarget] = []
    for step in policy.deployment.steps:
        if step == "canary":
            plan.extend(
                RolloutTarget("canary", share)
                for share in policy.deployment.canary_percentages
            )
        else:
            plan.append(RolloutTarget(step))
    return tuple(plan)


def advance_rollout(
    engine: Engine,
    *,
    actor_id: str,
    policy: Policy,
    version_id: int,
    step: str,
    percentage: int | None = None,
    registry: RegistryWriter | None = None,
    now: datetime | None = None,
    note: str = "",
) -> int:
    """Take the next rollout step of a version.

    Parameters
    ----------
    step, percentage
        The step asked for (``canary`` with its percentage); it must be the next
        one in `rollout_plan`.
    registry
        Where to mirror the step; None records it in the store only.
    now
        The time of the step (the clock, injectable for tests).

    Returns
    -------
    int
        The id of the recorded step.

    Raises
    ------
    WorkflowBlockedError
        When the step is out of order, the shadow period is shorter than the
        policy's minimum, or the deployment gate is closed.
    """
    moment = as_utc(now or utc_now())
    target = RolloutTarget(step, percentage)
    plan = rollout_plan(policy)
    if target not in plan:
        labels = ", ".join(item.label for item in plan)
        raise InvalidInputError(f"Unknown rollout step {target.label}; use {labels}.")
    with unit_of_work(engine) as work:
        require_permission(work.session, actor_id, "rollout.step")
        version = load_version(work.session, version_id)
        taken = _check_order(work.session, version, plan, target)
        _check_shadow(policy, taken, target, moment)
        _check_serving_evidence(work.session, taken, target)
        blockers = gate_blockers(work.session, version)
        if blockers:
            raise WorkflowBlockedError(
                f"Deployment of {version.model_name} version {version.version} is "
                f"blocked: {'; '.join(blockers)}."
            )
        row = _record_step(work, actor_id, version, target, moment, note)
        if registry is not None:
            _mirror(registry, version, target, row.replaced_version_id, work.session)
        step_id = row.id
        logger.info(
            "%s version %s: %s", version.model_name, version.version, target.label
        )
    assert step_id is not None
    return step_id


def _check_order(
    session: Session,
    version: ModelVersion,
    plan: tuple[RolloutTarget, ...],
    target: RolloutTarget,
) -> list[RolloutStep]:
    assert version.id is not None
    if version.stage != "deployment":
        raise WorkflowBlockedError(
            f"{version.model_name} version {version.version} is in {version.stage}; "
            "the rollout starts once the version is approved (stage deployment)."
        )
    taken = steps_taken(session, version.id)
    if len(taken) >= len(plan):
        raise WorkflowBlockedError("The rollout is complete; nothing is left to do.")
    expected = plan[len(taken)]
    if target != expected:
        done = ", ".join(_label(row) for row in taken) or "none"
        raise WorkflowBlockedError(
            f"The next rollout step is {expected.label}, not {target.label} "
            f"(steps taken: {done})."
        )
    return taken


def _check_shadow(
    policy: Policy, taken: list[RolloutStep], target: RolloutTarget, moment: datetime
) -> None:
    shadow = [row for row in taken if row.step == "shadow"]
    if not shadow or target.step == "shadow" or len(taken) != _after_shadow(taken):
        return
    earliest = as_utc(shadow[-1].performed_at) + timedelta(
        days=policy.deployment.shadow_min_days
    )
    if moment < earliest:
        raise WorkflowBlockedError(
            f"Shadow testing runs at least {policy.deployment.shadow_min_days} days "
            f"(policy deployment.shadow_min_days); {target.label} is allowed from "
            f"{earliest:%Y-%m-%d %H:%M} UTC."
        )


@dataclass(frozen=True)
class ShadowOverstay:
    """A version still in shadow past ``deployment.shadow_max_days``."""

    since: datetime
    now: datetime
    max_days: int

    def describe(self) -> str:
        """The flag as a person reads it."""
        elapsed = self.now - self.since
        return (
            f"In shadow since {self.since:%Y-%m-%d %H:%M} UTC ({elapsed.days} days "
            f"{elapsed.seconds // 3600} hours), past the policy's {self.max_days} "
            "days (deployment.shadow_max_days): decide: promote or roll back."
        )


def shadow_overstay(
    policy: Policy, taken: list[RolloutStep], now: datetime
) -> ShadowOverstay | None:
    """The overstay when shadow is the last step taken and began past the maximum.

    Framework, "Shadow testing (1-2 weeks)": a shadow of exactly
    ``shadow_max_days`` is still within the range, as one of exactly
    ``shadow_min_days`` may already leave (`_check_shadow`); from the next moment
    it is flagged. The flag asks for a decision; promotion is not refused for it.
    """
    if not taken or taken[-1].step != "shadow":
        return None
    since = as_utc(taken[-1].performed_at)
    if as_utc(now) - since <= timedelta(days=policy.deployment.shadow_max_days):
        return None
    return ShadowOverstay(since, as_utc(now), policy.deployment.shadow_max_days)


def shadow_overstay_of(
    engine: Engine, policy: Policy, version_id: int, *, now: datetime | None = None
) -> ShadowOverstay | None:
    """`shadow_overstay` of a version in deployment, now by default."""
    with read_session(engine) as session:
        version = session.get(ModelVersion, version_id)
        if version is None or version.stage != "deployment":
            return None
        taken = steps_taken(session, version_id)
    return shadow_overstay(policy, taken, now or utc_now())


def _check_serving_evidence(
    session: Session, taken: list[RolloutStep], target: RolloutTarget
) -> None:
    # Leaving shadow, or a canary step, needs that step's latest evidence from
    # the prediction log to pass the policy (governance.operations.serving).
    if not taken or taken[-1].step not in ("shadow", "canary"):
        return
    step = taken[-1]
    label = _label(step)
    evidence = session.exec(
        select(ServingEvidence)
        .where(
            ServingEvidence.model_version_id == step.model_version_id,
            ServingEvidence.phase == step.step,
            ServingEvidence.canary_percentage == step.percentage
            if step.percentage is not None
            else col(ServingEvidence.canary_percentage).is_(None),
        )
        .order_by(col(ServingEvidence.id).desc())
        .limit(1)
    ).first()
    if evidence is None or as_utc(evidence.window_start) < as_utc(step.performed_at):
        raise WorkflowBlockedError(
            f"{target.label} needs passing {step.step} evidence for {label}, and none "
            "was computed since the step was taken; compute it from the serving "
            "platform's prediction log (Deployment page, or `python -m governance "
            "serving evidence`)."
        )
    if not evidence.passed:
        breached = "; ".join(item["message"] for item in evidence.breaches)
        raise WorkflowBlockedError(
            f"{target.label} is refused: the {label} evidence (id {evidence.id}, "
            f"up to {as_utc(evidence.window_end):%Y-%m-%d %H:%M} UTC) breaches the "
            f"policy: {breached}. Resolve it and compute the evidence again."
        )


def _after_shadow(taken: list[RolloutStep]) -> int:
    # The step right after the shadow step is the one the minimum applies to.
    return next(i for i, row in enumerate(taken) if row.step == "shadow") + 1


def steps_taken(session: Session, version_id: int) -> list[RolloutStep]:
    """The version's rollout steps (rollbacks aside), oldest first."""
    return list(
        session.exec(
            select(RolloutStep)
            .where(
                RolloutStep.model_version_id == version_id,
                col(RolloutStep.step) != "rollback",
                col(RolloutStep.step) != "withdrawn",
            )
            .order_by(col(RolloutStep.id))
        ).all()
    )


def _label(row: RolloutStep) -> str:
    return RolloutTarget(row.step, row.percentage).label


def _record_step(
    work: UnitOfWork,
    actor_id: str,
    version: ModelVersion,
    target: RolloutTarget,
    moment: datetime,
    note: str,
) -> RolloutStep:
    replaced = None
    if target.step == "production":
        replaced = production_version(work.session, version.model_name)
    row = RolloutStep(
        model_version_id=version.id,  # type: ignore[arg-type]
        model_name=version.model_name,
        step=target.step,
        percentage=target.percentage,
        replaced_version_id=replaced.id if replaced else None,
        performed_by=actor_id,
        performed_at=moment,
        note=note.strip(),
    )
    work.session.add(row)
    work.session.flush()
    work.record(
        actor_id=actor_id,
        action="rollout.step",
        entity_type="model_version",
        entity_id=str(version.id),
        payload={
            "step": target.label,
            "performed_at": moment.isoformat(),
            "replaced_version_id": row.replaced_version_id,
        },
    )
    if replaced is not None:
        set_stage(
            work,
            actor_id=actor_id,
            version=replaced,
            stage="retired",
            reason=f"replaced by version {version.version}",
            now=moment,
        )
    if target.step == "production":
        set_stage(
            work, actor_id=actor_id, version=version, stage="production", now=moment
        )
    else:
        version.row_version += 1
        work.session.add(version)
    return row


def _mirror(
    registry: RegistryWriter,
    version: ModelVersion,
    target: RolloutTarget,
    replaced_id: int | None,
    session: Session,
) -> None:
    registry.set_alias(version.model_name, target.step, version.version)
    registry.set_tag(version.model_name, version.version, TAG_STEP, target.label)
    if target.step == "production":
        registry.set_tag(version.model_name, version.version, TAG_STAGE, "production")
    if replaced_id is not None:
        replaced = load_version(session, replaced_id)
        registry.set_tag(replaced.model_name, replaced.version, TAG_STAGE, "retired")


def rollback(
    engine: Engine,
    *,
    actor_id: str,
    model_name: str,
    reason: str,
    expected_row_version: int | None = None,
    registry: RegistryWriter | None = None,
    now: datetime | None = None,
) -> int:
    """Put the previous production version of ``model_name`` back, in one action.

    The version in production is retired with the reason; the one it replaced
    returns to production without a new approval, since it was approved before.

    Parameters
    ----------
    expected_row_version
        The production version's ``row_version`` as the engineer read it.

    Returns
    -------
    int
        The id of the version now in production.
    """
    text = require_text(reason, field="reason for the rollback")
    moment = as_utc(now or utc_now())
    with unit_of_work(engine) as work:
        require_permission(work.session, actor_id, "rollout.rollback")
        current = production_version(work.session, model_name)
        if current is None:
            raise NotFoundError(
                f"{model_name} has no version in production to roll back."
            )
        check_row_version(current, expected_row_version, what="The production version")
        previous = _replaced_by(work.session, current)
        work.session.add(
            RolloutStep(
                model_version_id=previous.id,  # type: ignore[arg-type]
                model_name=model_name,
                step="rollback",
                replaced_version_id=current.id,
                performed_by=actor_id,
                performed_at=moment,
                note=text,
            )
        )
        set_stage(
            work,
            actor_id=actor_id,
            version=current,
            stage="retired",
            reason=text,
            now=moment,
        )
        set_stage(
            work,
            actor_id=actor_id,
            version=previous,
            stage="production",
            reason=f"rolled back from version {current.version}: {text}",
            now=moment,
        )
        work.record(
            actor_id=actor_id,
            action="rollout.rolled_back",
            entity_type="model",
            entity_id=model_name,
            payload={"from": current.id, "to": previous.id, "reason": text},
        )
        if registry is not None:
            registry.set_alias(model_name, "production", previous.version)
            registry.set_tag(model_name, current.version, TAG_STAGE, "rolled_back")
            registry.set_tag(model_name, previous.version, TAG_STAGE, "production")
        restored = previous.id
    assert restored is not None
    return restored


def _replaced_by(session: Session, current: ModelVersion) -> ModelVersion:
    entered = session.exec(
        select(RolloutStep)
        .where(
            RolloutStep.model_version_id == current.id,
            col(RolloutStep.step).in_(("production", "rollback")),
        )
        .order_by(col(RolloutStep.id).desc())
        .limit(1)
    ).first()
    if entered is None or entered.replaced_version_id is None:
        raise WorkflowBlockedError(
            f"{current.model_name} version {current.version} replaced no earlier "
            "version; there is nothing to roll back to."
        )
    return load_version(session, entered.replaced_version_id)


def rollout_status(
    engine: Engine, policy: Policy, version_id: int
) -> list[tuple[str, datetime | None]]:
    """Each step of the plan with when the version took it (None when not yet)."""
    with read_session(engine) as session:
        taken = steps_taken(session, version_id)
    return [
        (target.label, as_utc(taken[i].performed_at) if i < len(taken) else None)
        for i, target in enumerate(rollout_plan(policy))
    ]
