"""Change management: classify a new version against the one in production.

Framework, "Model Change Management": minor changes (hyperparameter tuning,
feature engineering improvements, bug fixes) are approved by the ML engineer;
major changes (features added or removed, architecture changes) by the model
owner; critical changes (model replacement, algorithm change, data source change)
take the full approval workflow. The class is computed from the two versions'
registration data; a requester may raise it, never lower it.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from governance.audit import unit_of_work
from governance.errors import InvalidInputError, WorkflowBlockedError
from governance.policy import Policy
from governance.store import read_session
from governance.tables import ModelVersion
from governance.workflow._state import bump, load_version
from governance.workflow.permissions import require_permission
from governance.workflow_tables import ChangeRecord

logger = logging.getLogger(__name__)

CHANGE_CLASSES = ("minor", "major", "critical")
# data_spec keys that describe where the training data comes from.
DATA_SOURCE_KEYS = ("data_source",)
# data_spec keys that describe the model's architecture beyond its algorithm.
ARCHITECTURE_KEYS = ("architecture", "flavors")


@dataclass(frozen=True)
class Difference:
    """One difference between two versions and the class it implies."""

    field: str
    previous: Any
    candidate: Any
    change_class: str
    description: str


@dataclass(frozen=True)
class ChangeClassification:
    """A change class and the differences it was computed from."""

    change_class: str
    differences: tuple[Difference, ...]

    def to_dicts(self) -> list[dict[str, Any]]:
        """The differences as plain JSON-serialisable values."""
        return [asdict(item) for item in self.differences]


def classify_change(
    previous: ModelVersion, candidate: ModelVersion
) -> ChangeClassification:
    """Classify ``candidate`` against ``previous`` from their registration data.

    Parameters
    ----------
    previous
        The version in production (or the one being replaced).
    candidate
        The new version.

    Returns
    -------
    ChangeClassification
        The highest class among the differences found, with every difference
        listed; ``minor`` with no differences when nothing but the version moved.
    """
    old, new = previous.data_spec or {}, candidate.data_spec or {}
    differences = [
        *_replacement(previous, candidate, old, new),
        *_algorithm(previous, candidate),
        *_data_source(old, new),
        *_features(old, new),
        *_architecture(old, new),
        *_hyperparameters(old, new),
        *_training_data(old, new),
    ]
    change_class = max(
        (item.change_class for item in differences),
        key=CHANGE_CLASSES.index,
        default="minor",
    )
    return ChangeClassification(change_class, tuple(differences))


def _replacement(
    previous: ModelVersion,
    candidate: ModelVersion,
    old: dict[str, Any],
    new: dict[str, Any],
) -> list[Difference]:
    found = []
    if previous.model_name != candidate.model_name:
        found.append(
            Difference(
                "model",
                previous.model_name,
                candidate.model_name,
                "critical",
                "model replacement: a different registered model",
            )
        )
    if old.get("target") != new.get("target"):
        found.append(
            Difference(
                "target",
                old.get("target"),
                new.get("target"),
                "critical",
                "model replacement: the model predicts a different target",
            )
        )
    return found


def _algorithm(previous: ModelVersion, candidate: ModelVersion) -> list[Difference]:
    if previous.algorithm == candidate.algorithm:
        return []
    return [
        Difference(
            "algorithm",
            previous.algorithm,
            candidate.algorithm,
            "critical",
            "algorithm change",
        )
    ]


def _data_source(old: dict[str, Any], new: dict[str, Any]) -> list[Difference]:
    return [
        Difference(key, old.get(key), new.get(key), "critical", "data source change")
        for key in DATA_SOURCE_KEYS
        if old.get(key) != new.get(key)
    ]


def _features(old: dict[str, Any], new: dict[str, Any]) -> list[Difference]:
    before, after = list(old.get("features") or []), list(new.get("features") or [])
    added = [name for name in after if name not in before]
    removed = [name for name in before if name not in after]
    found = []
    if added:
        found.append(Difference("features", None, added, "major", "features added"))
    if removed:
        found.append(Difference("features", removed, None, "major", "features removed"))
    return found


def _architecture(old: dict[str, Any], new: dict[str, Any]) -> list[Difference]:
    return [
        Difference(key, old.get(key), new.get(key), "major", "architecture change")
        for key in ARCHITECTURE_KEYS
        if old.get(key) != new.get(key)
    ]


def _hyperparameters(old: dict[str, Any], new: dict[str, Any]) -> list[Difference]:
    before, after = old.get("params") or {}, new.get("params") or {}
    return [
        Difference(
            f"params.{name}",
            before.get(name),
            after.get(name),
            "minor",
            "hyperparameter tuning",
        )
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    ]


def _training_data(old: dict[str, Any], new: dict[str, Any]) -> list[Difference]:
    found = []
    for key in ("train", "decision_threshold"):
        before, after = old.get(key), new.get(key)
        if isinstance(before, dict) and isinstance(after, dict):
            before, after = before.get("sha256"), after.get("sha256")
        if before != after:
            what = "training data refreshed" if key == "train" else "threshold tuned"
            found.append(Difference(key, before, after, "minor", what))
    return found


def production_version(session: Session, model_name: str) -> ModelVersion | None:
    """The version of ``model_name`` now in production, if any."""
    return session.exec(
        select(ModelVersion)
        .where(
            ModelVersion.model_name == model_name, ModelVersion.stage == "production"
        )
        .order_by(col(ModelVersion.id).desc())
        .limit(1)
    ).first()


def record_change_class(
    engine: Engine,
    *,
    actor_id: str,
    version_id: int,
    requested_class: str | None = None,
) -> int:
    """Classify the version against production and record the class.

    A version whose model has nothing in production is a new model and takes the
    full workflow (``critical``).

    Parameters
    ----------
    requested_class
        A class the requester states; it may be higher than the computed one,
        never lower.

    Returns
    -------
    int
        The id of the change record.

    Raises
    ------
    InvalidInputError
        When ``requested_class`` is unknown or lower than the computed class.
    """
    if requested_class is not None and requested_class not in CHANGE_CLASSES:
        raise InvalidInputError(
            f"Unknown change class {requested_class!r}; use one of {CHANGE_CLASSES}."
        )
    with unit_of_work(engine) as work:
        require_permission(work.session, actor_id, "change.classify")
        version = load_version(work.session, version_id)
        if version.stage in ("production", "withdrawn", "retired"):
            raise WorkflowBlockedError(
                f"{version.model_name} version {version.version} is {version.stage}; "
                "only a version on its way to production is classified."
            )
        baseline = production_version(work.session, version.model_name)
        classification = _classify_against(baseline, version)
        final = requested_class or classification.change_class
        if CHANGE_CLASSES.index(final) < CHANGE_CLASSES.index(
            classification.change_class
        ):
            raise InvalidInputError(
                f"The change is {classification.change_class} "
                f"({_summary(classification)}); a requester may raise the class, "
                f"never lower it to {final}."
            )
        row = ChangeRecord(
            model_version_id=version_id,
            baseline_version_id=baseline.id if baseline else None,
            computed_class=classification.change_class,
            change_class=final,
            differences=classification.to_dicts(),
            classified_by=actor_id,
        )
        work.session.add(row)
        bump(work, version)
        work.session.flush()
        work.record(
            actor_id=actor_id,
            action="change.classified",
            entity_type="model_version",
            entity_id=str(version_id),
            payload={
                "change_record_id": row.id,
                "baseline_version_id": row.baseline_version_id,
                "computed_class": classification.change_class,
                "change_class": final,
                "differences": classification.to_dicts(),
            },
        )
        record_id = row.id
    assert record_id is not None
    return record_id


def _classify_against(
    baseline: ModelVersion | None, version: ModelVersion
) -> ChangeClassification:
    if baseline is None:
        return ChangeClassification(
            "critical",
            (
                Difference(
                    "model",
                    None,
                    version.model_name,
                    "critical",
                    "no version in production: a new model takes the full workflow",
                ),
            ),
        )
    return classify_change(baseline, version)


def _summary(classification: ChangeClassification) -> str:
    return "; ".join(item.description for item in classification.differences) or (
        "no difference"
    )


def latest_change_record(session: Session, version_id: int) -> ChangeRecord | None:
    """The newest change record of the version."""
    return session.exec(
        select(ChangeRecord)
        .where(ChangeRecord.model_version_id == version_id)
        .order_by(col(ChangeRecord.id).desc())
        .limit(1)
    ).first()


def change_approvers(policy: Policy, change_class: str) -> tuple[str, ...] | None:
    """The roles that approve a change class, or None for the full workflow."""
    approvers = policy.change_management.classes[change_class].approvers  # type: ignore[index]
    return None if approvers == "full_workflow" else tuple(approvers)


def describe_change(engine: Engine, version_id: int) -> ChangeClassification:
    """The version's change class against production, computed now (not stored)."""
    with read_session(engine) as session:
        version = load_version(session, version_id)
        baseline = production_version(session, version.model_name)
        if baseline is not None and baseline.id == version.id:
            return ChangeClassification("minor", ())
        return _classify_against(baseline, version)
