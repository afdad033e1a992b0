"""Shadow and canary evidence from the serving platform's prediction logs.

The framework's "Stage 5: Deployment" runs a candidate in shadow, then on a
growing canary share of traffic, before production. This module turns the
prediction log of each step into evidence and holds it to the policy
(``policy.deployment.evidence`` and ``policy.monitoring.performance_drop_fraction``);
`governance.workflow.rollout` refuses to leave a step whose evidence is missing
or breached.

Shadow
    The candidate's shadow predictions (``traffic == "shadow"``) are paired with
    the baseline's production predictions on the same ``request_id``. The
    baseline is the version in production, or one named explicitly. Each version
    decides at its own registered threshold (``score >= threshold``); agreement
    is the share of paired requests where both decide alike. Score PSI takes the
    baseline's scores as the reference (``governance.assessment.drift``), and
    AUC, precision and recall of both come from
    ``governance.assessment.performance`` on the paired rows with an outcome.
    Without a baseline (a model's first rollout) the candidate is compared with
    the outcomes only, against the policy's performance minimums.

Canary
    The canary slice (``traffic == "canary"``, the candidate's rows since the step
    was taken) is compared with the rest of the traffic in the same window
    (``traffic == "production"``): score PSI with the rest as reference, the
    difference in selection rate, and performance once outcomes are known. At
    100 % there is no rest; the slice is then held to the performance minimums.

Windows
    A step's evidence reads the rows with ``step taken <= timestamp < computed at``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from governance.assessment.drift import population_stability_index
from governance.assessment.performance import assess_performance, confusion_counts
from governance.assessment.stability import relative_drop
from governance.audit import unit_of_work
from governance.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    WorkflowBlockedError,
)
from governance.operations.prediction_logs import PredictionLog, read_prediction_log
from governance.policy import Policy, reaches
from governance.registration import DEFAULT_DECISION_THRESHOLD
from governance.serving_tables import ServingEvidence
from governance.store import read_session
from governance.tables import ModelVersion, utc_now
from governance.workflow._state import as_utc, load_version
from governance.workflow.changes import production_version
from governance.workflow.permissions import require_permission
from governance.workflow.rollout import steps_taken
from governance.workflow_tables import RolloutStep

logger = logging.getLogger(__name__)

SCORE_BINS = 20
"""Equal-width score bins of the stored distributions (a display choice, not policy)."""

PHASES = ("shadow", "canary")
PERFORMANCE_METRICS = ("auc", "precision", "recall")
_LABELS = {"auc": "AUC", "precision": "precision", "recall": "recall"}


@dataclass(frozen=True)
class Breach:
    """One number on the wrong side of one policy bound."""

    key: str
    value: float
    limit: float
    message: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form, as stored with the evidence."""
        return asdict(self)


@dataclass(frozen=True)
class ServingComparison:
    """What one window of a prediction log shows, and the bounds it breached."""

    phase: str
    percentage: int | None
    candidate_version: str
    baseline_version: str | None
    metrics: dict[str, Any]
    breaches: tuple[Breach, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        """Whether no policy bound was breached."""
        return not self.breaches


@dataclass(frozen=True)
class _Slice:
    """Scores, decisions and outcomes of one group of predictions."""

    label: str
    scores: np.ndarray
    cuts: np.ndarray
    outcomes: pd.Series

    @property
    def decisions(self) -> np.ndarray:
        return (self.scores >= self.cuts).astype(np.int8)

    @property
    def rows(self) -> int:
        return len(self.scores)

    @property
    def selection_rate(self) -> float:
        return float(self.decisions.mean()) if self.rows else 0.0


def compare_shadow(
    frame: pd.DataFrame,
    *,
    candidate_version: str,
    thresholds: Mapping[str, float],
    baseline_version: str | None,
    policy: Policy,
) -> ServingComparison:
    """Compare a candidate's shadow predictions with the baseline's, or outcomes.

    Parameters
    ----------
    frame
        A validated, windowed prediction log (`PredictionLog.frame`).
    candidate_version
        The version in shadow.
    thresholds
        The registered decision threshold of each version, by version.
    baseline_version
        The version whose production predictions are the comparison; None to
        compare with outcomes only.
    policy
        Reads ``deployment.evidence``, ``drift.psi_bins``, ``performance`` and
        ``monitoring.performance_drop_fraction``.

    Raises
    ------
    InvalidInputError
        When the window holds no shadow row of the candidate, or a baseline is
        named but the log has no ``request_id`` to pair the predictions on.
    """
    rows = _rows(frame, "shadow", candidate_version)
    if baseline_version is None:
        candidate = _slice(rows, f"version {candidate_version} (shadow)", thresholds)
        return _against_outcomes(
            "shadow",
            None,
            candidate,
            candidate_version,
            policy,
            note="No version is in production yet, so the shadow predictions are "
            "compared with the outcomes only.",
        )
    if "request_id" not in frame.columns:
        raise InvalidInputError(
            "The prediction log has no request_id column, so shadow predictions "
            "cannot be paired with production's; log the request id of each "
            "prediction."
        )
    baseline_rows = frame[
        (frame["traffic"] == "production")
        & (frame["model_version"] == baseline_version)
    ]
    paired = rows.drop_duplicates("request_id").merge(
        baseline_rows.drop_duplicates("request_id"),
        on="request_id",
        suffixes=("", "_baseline"),
    )
    paired["outcome"] = paired["outcome"].fillna(paired["outcome_baseline"])
    candidate = _slice(paired, f"version {candidate_version} (shadow)", thresholds)
    baseline = _slice(
        paired.assign(
            score=paired["score_baseline"],
            model_version=paired["model_version_baseline"],
        ),
        f"version {baseline_version} (production)",
        thresholds,
    )
    metrics: dict[str, Any] = {
        "candidate_rows": len(rows),
        "baseline_rows": len(baseline_rows),
        "paired_rows": len(paired),
        "thresholds": {
            "candidate": thresholds[candidate_version],
            "baseline": thresholds[baseline_version],
        },
    }
    breaches, notes = _too_few(len(paired), "paired shadow and production rows", policy)
    if not len(paired):
        notes.append(
            "No shadow prediction shares a request_id with a production prediction "
            f"of version {baseline_version} in this window."
        )
        return ServingComparison(
            "shadow", None, candidate_version, baseline_version, metrics,
            tuple(breaches), tuple(notes),
        )  # fmt: skip

    agreement = float(np.mean(candidate.decisions == baseline.decisions))
    metrics["agreement"] = agreement
    metrics["decisions"] = _decision_table(candidate.decisions, baseline.decisions)
    metrics.update(_distribution_metrics(candidate, baseline, policy))
    minimum = policy.deployment.evidence.min_shadow_agreement
    if agreement < minimum:
        breaches.append(
            Breach(
                "deployment.evidence.min_shadow_agreement",
                agreement,
                minimum,
                f"shadow agreement {agreement:.3f} is below "
                f"deployment.evidence.min_shadow_agreement {minimum:g}",
            )
        )
    breaches.extend(_psi_breach(metrics["score_psi"], policy))
    performance, found, said = _relative_performance(candidate, baseline, policy)
    metrics["performance"] = performance
    breaches.extend(found)
    notes.extend(said)
    return ServingComparison(
        "shadow", None, candidate_version, baseline_version, metrics,
        tuple(breaches), tuple(notes),
    )  # fmt: skip


def compare_canary(
    frame: pd.DataFrame,
    *,
    candidate_version: str,
    percentage: int,
    thresholds: Mapping[str, float],
    policy: Policy,
) -> ServingComparison:
    """Compare the canary slice with the rest of the traffic in the same window.

    Parameters
    ----------
    frame
        A validated, windowed prediction log (`PredictionLog.frame`).
    candidate_version
        The version on canary traffic.
    percentage
        The canary step the window belongs to.
    thresholds
        The registered decision threshold of each version, by version; every
        version that served production rows must have one.
    policy
        Reads ``deployment.evidence``, ``drift.psi_bins``, ``performance`` and
        ``monitoring.performance_drop_fraction``.

    Raises
    ------
    InvalidInputError
        When the window holds no canary row of the candidate, or a version that
        served the rest is not registered.
    """
    rows = _rows(frame, "canary", candidate_version)
    canary = _slice(rows, f"version {candidate_version} (canary)", thresholds)
    rest_rows = frame[
        (frame["traffic"] == "production")
        & (frame["model_version"] != candidate_version)
    ]
    if rest_rows.empty:
        return _against_outcomes(
            "canary",
            percentage,
            canary,
            candidate_version,
            policy,
            note="No other traffic was served in this window (canary at "
            f"{percentage} %), so the canary slice is compared with the outcomes only.",
        )
    served_by = sorted(rest_rows["model_version"].unique())
    rest = _slice(rest_rows, "rest (production)", thresholds)
    metrics: dict[str, Any] = {
        "canary_rows": canary.rows,
        "rest_rows": rest.rows,
        "rest_versions": served_by,
        "thresholds": {version: thresholds[version] for version in served_by}
        | {"candidate": thresholds[candidate_version]},
    }
    breaches, notes = _too_few(canary.rows, "canary rows", policy)
    more, said = _too_few(rest.rows, "rest-of-traffic rows", policy)
    breaches.extend(more)
    notes.extend(said)

    metrics.update(_distribution_metrics(canary, rest, policy))
    difference = abs(canary.selection_rate - rest.selection_rate)
    metrics["selection_rate_difference"] = difference
    bound = policy.deployment.evidence.max_selection_rate_difference
    if reaches(difference, bound):
        breaches.append(
            Breach(
                "deployment.evidence.max_selection_rate_difference",
                difference,
                bound,
                f"selection rate difference {difference:.3f} (canary "
                f"{canary.selection_rate:.3f}, rest {rest.selection_rate:.3f}) is "
                f"at or above deployment.evidence.max_selection_rate_difference {bound:g}",
            )
        )
    breaches.extend(_psi_breach(metrics["score_psi"], policy))
    performance, found, said = _relative_performance(canary, rest, policy)
    metrics["performance"] = performance
    breaches.extend(found)
    notes.extend(said)
    return ServingComparison(
        "canary", percentage, candidate_version, None, metrics,
        tuple(breaches), tuple(notes),
    )  # fmt: skip


def _rows(frame: pd.DataFrame, traffic: str, version: str) -> pd.DataFrame:
    rows = frame[(frame["traffic"] == traffic) & (frame["model_version"] == version)]
    if rows.empty:
        served = sorted(
            frame.loc[frame["traffic"] == traffic, "model_version"].unique()
        )
        found = (
            f" (its {traffic} rows are of version {', '.join(served)})"
            if served
            else ""
        )
        raise InvalidInputError(
            f"The prediction log holds no {traffic} prediction of version {version} "
            f"in the window{found}; check the log path, the version and the time "
            "the step was taken."
        )
    return rows


def _slice(rows: pd.DataFrame, label: str, thresholds: Mapping[str, float]) -> _Slice:
    unknown = sorted(set(rows["model_version"]) - set(thresholds))
    if unknown:
        raise InvalidInputError(
            f"The prediction log holds predictions of version {', '.join(unknown)}, "
            "which is not registered for this model, so its decision threshold is "
            "unknown; register the version or remove its rows."
        )
    return _Slice(
        label,
        rows["score"].to_numpy(dtype=np.float64),
        rows["model_version"].map(thresholds).to_numpy(dtype=np.float64),
        rows["outcome"].reset_index(drop=True),
    )


def _too_few(count: int, what: str, policy: Policy) -> tuple[list[Breach], list[str]]:
    minimum = policy.deployment.evidence.min_rows
    if count >= minimum:
        return [], []
    message = f"{count} {what} is below deployment.evidence.min_rows {minimum}"
    return [Breach("deployment.evidence.min_rows", count, minimum, message)], [
        f"Wait for more traffic: the window holds {count} {what}."
    ]


def _decision_table(candidate: np.ndarray, baseline: np.ndarray) -> dict[str, int]:
    return {
        "both_positive": int(np.sum((candidate == 1) & (baseline == 1))),
        "candidate_only": int(np.sum((candidate == 1) & (baseline == 0))),
        "baseline_only": int(np.sum((candidate == 0) & (baseline == 1))),
        "both_negative": int(np.sum((candidate == 0) & (baseline == 0))),
    }


def _distribution_metrics(
    current: _Slice, reference: _Slice, policy: Policy
) -> dict[str, Any]:
    psi = population_stability_index(
        reference.scores, current.scores, bins=policy.drift.psi_bins
    )
    return {
        "score_psi": psi,
        "selection_rate": {
            current.label: current.selection_rate,
            reference.label: reference.selection_rate,
        },
        "distribution": _score_distribution(current, reference),
    }


def _score_distribution(*slices: _Slice) -> dict[str, Any]:
    """Share of each slice's scores per equal-width bin of [0, 1], for charts."""
    edges = np.linspace(0.0, 1.0, SCORE_BINS + 1)
    series = {}
    for item in slices:
        counts, _ = np.histogram(item.scores, bins=edges)
        series[item.label] = (counts / max(item.rows, 1)).tolist()
    return {"edges": edges.tolist(), "series": series}


def _psi_breach(psi: float, policy: Policy) -> list[Breach]:
    bound = policy.deployment.evidence.max_score_psi
    if not reaches(psi, bound):
        return []
    return [
        Breach(
            "deployment.evidence.max_score_psi",
            psi,
            bound,
            f"score PSI {psi:.3f} is at or above deployment.evidence.max_score_psi "
            f"{bound:g}",
        )
    ]


def _slice_performance(
    item: _Slice, policy: Policy
) -> tuple[int, dict[str, float] | None]:
    """Rows with an outcome, and AUC, precision and recall on them (None if one class)."""
    known = item.outcomes.notna().to_numpy()
    labels = item.outcomes[known].to_numpy(dtype=np.int8)
    scores, cuts = item.scores[known], item.cuts[known]
    if len(set(labels.tolist())) < 2:
        return len(labels), None
    if np.all(cuts == cuts[0]):
        assessed = assess_performance(labels, scores, threshold=cuts[0], policy=policy)
        return len(labels), {
            name: getattr(assessed, name) for name in PERFORMANCE_METRICS
        }
    # The rest of a canary window may mix versions, each deciding at its own
    # threshold: AUC ranks the raw scores, precision and recall count decisions.
    auc = assess_performance(labels, scores, threshold=0.5, policy=policy).auc
    matrix = confusion_counts(labels, (scores >= cuts).astype(np.int8))
    tp, fp, fn = matrix.tp, matrix.fp, matrix.fn
    return len(labels), {
        "auc": auc,
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
    }


def _relative_performance(
    candidate: _Slice, baseline: _Slice, policy: Policy
) -> tuple[dict[str, Any] | None, list[Breach], list[str]]:
    labelled, candidate_metrics = _slice_performance(candidate, policy)
    baseline_labelled, baseline_metrics = _slice_performance(baseline, policy)
    minimum = policy.deployment.evidence.min_rows
    if min(labelled, baseline_labelled) < minimum:
        return (
            None,
            [],
            [
                f"Performance not judged yet: {labelled} {candidate.label} and "
                f"{baseline_labelled} {baseline.label} rows have an outcome; "
                f"deployment.evidence.min_rows is {minimum}."
            ],
        )
    if candidate_metrics is None or baseline_metrics is None:
        return None, [], ["Performance not judged: the outcomes hold one class only."]
    performance = {
        "rows": {candidate.label: labelled, baseline.label: baseline_labelled},
        candidate.label: candidate_metrics,
        baseline.label: baseline_metrics,
    }
    fraction = policy.monitoring.performance_drop_fraction
    breaches = []
    for name in PERFORMANCE_METRICS:
        before, after = baseline_metrics[name], candidate_metrics[name]
        drop = relative_drop(before, after) if before > 0 else 0.0
        if reaches(drop, fraction):
            breaches.append(
                Breach(
                    "monitoring.performance_drop_fraction",
                    drop,
                    fraction,
                    f"{_LABELS[name]} {after:.3f} of {candidate.label} is "
                    f"{drop:.1%} below {baseline.label}'s {before:.3f}, reaching "
                    f"monitoring.performance_drop_fraction {fraction:g}",
                )
            )
    return performance, breaches, []


def _against_outcomes(
    phase: str,
    percentage: int | None,
    candidate: _Slice,
    candidate_version: str,
    policy: Policy,
    *,
    note: str,
) -> ServingComparison:
    labelled, measured = _slice_performance(candidate, policy)
    metrics: dict[str, Any] = {
        "canary_rows" if phase == "canary" else "candidate_rows": candidate.rows,
        "labelled_rows": labelled,
        "selection_rate": {candidate.label: candidate.selection_rate},
        "distribution": _score_distribution(candidate),
        "performance": None,
    }
    breaches, notes = _too_few(
        labelled, f"{candidate.label} rows with an outcome", policy
    )
    notes.insert(0, note)
    if breaches:
        return ServingComparison(
            phase, percentage, candidate_version, None, metrics,
            tuple(breaches), tuple(notes),
        )  # fmt: skip
    if measured is None:
        notes.append("Performance not judged: the outcomes hold one class only.")
        breaches.append(
            Breach(
                "deployment.evidence.min_rows",
                0,
                policy.deployment.evidence.min_rows,
                "no outcome of the minority class, so performance is undefined",
            )
        )
    else:
        metrics["performance"] = {
            "rows": {candidate.label: labelled},
            candidate.label: measured,
        }
        limits = policy.performance
        for name in PERFORMANCE_METRICS:
            minimum = getattr(limits, f"min_{name}")
            if measured[name] < minimum:
                breaches.append(
                    Breach(
                        f"performance.min_{name}",
                        measured[name],
                        minimum,
                        f"{_LABELS[name]} {measured[name]:.3f} of {candidate.label} is "
                        f"below performance.min_{name} {minimum:g}",
                    )
                )
    return ServingComparison(
        phase, percentage, candidate_version, None, metrics,
        tuple(breaches), tuple(notes),
    )  # fmt: skip


@dataclass(frozen=True)
class StoredServingEvidence:
    """One stored computation of shadow or canary evidence, for pages and the CLI."""

    id: int
    model_name: str
    version: str
    phase: str
    percentage: int | None
    window_start: datetime
    window_end: datetime
    baseline_version: str | None
    metrics: dict[str, Any]
    passed: bool
    breaches: list[dict[str, Any]]
    log_path: str
    log_sha256: str
    policy_version: str
    created_by: str
    created_at: datetime

    @property
    def step_label(self) -> str:
        """The rollout step judged, e.g. ``shadow`` or ``canary-10``."""
        return self.phase if self.percentage is None else f"canary-{self.percentage}"

    @property
    def notes(self) -> list[str]:
        """What a reader should know beyond the numbers (no baseline, no outcomes)."""
        return list(self.metrics.get("notes") or [])

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (the CLI's ``--json`` output)."""
        data = asdict(self)
        for key in ("window_start", "window_end", "created_at"):
            data[key] = data[key].isoformat()
        return {**data, "step": self.step_label}


def compute_serving_evidence(
    engine: Engine,
    *,
    actor_id: str,
    policy: Policy,
    version_id: int,
    log_reference: str,
    baseline_version: str | None = None,
    now: datetime | None = None,
) -> int:
    """Read a prediction log, judge the version's current rollout step, store it.

    The step is the last one the version took (shadow or a canary step); the
    window runs from when it was taken to ``now``.

    Parameters
    ----------
    log_reference
        The serving platform's prediction log (CSV, Parquet, or Delta ``path@vN``).
    baseline_version
        Shadow only: the version whose production predictions are compared; the
        version in production by default.
    now
        The end of the window (the clock, injectable for tests and the demo).

    Returns
    -------
    int
        The id of the stored evidence.

    Raises
    ------
    WorkflowBlockedError
        When the version is not in shadow or at a canary step.
    InvalidInputError
        When the log is unreadable, malformed, or holds none of the step's rows.
    """
    moment = as_utc(now or utc_now())
    if not log_reference.strip():
        raise InvalidInputError(
            "Give the path of the serving platform's prediction log (CSV, Parquet, "
            "or a Delta table folder)."
        )
    with read_session(engine) as session:
        require_permission(session, actor_id, "serving.evidence")
        version = load_version(session, version_id)
        step = current_step(session, version)
        baseline = _baseline(session, version, step, baseline_version)
        thresholds = _thresholds(session, version.model_name)
    start = as_utc(step.performed_at)
    if moment <= start:
        raise InvalidInputError(
            f"The window of {_step_label(step)} starts at {start:%Y-%m-%d %H:%M} UTC; "
            "compute its evidence after the step was taken."
        )

    log = read_prediction_log(
        log_reference, model_name=version.model_name, start=start, end=moment
    )
    comparison = _compare(
        log.frame, version.version, step, baseline, thresholds, policy
    )

    with unit_of_work(engine) as work:
        require_permission(work.session, actor_id, "serving.evidence")
        version = load_version(work.session, version_id)
        if current_step(work.session, version).id != step.id:
            raise ConflictError(
                f"{version.model_name} version {version.version} moved past "
                f"{_step_label(step)} while its evidence was computed; reload and "
                "compute the evidence of the current step."
            )
        row = _evidence_row(version, step, comparison, log, start, moment, policy)
        row.created_by = actor_id
        work.session.add(row)
        work.session.flush()
        work.record(
            actor_id=actor_id,
            action="serving.evidence_recorded",
            entity_type="model_version",
            entity_id=str(version.id),
            payload={
                "evidence_id": row.id,
                "step": _step_label(step),
                "passed": comparison.passed,
                "breached": [breach.key for breach in comparison.breaches],
                "log_sha256": log.source.sha256,
                "window": [start.isoformat(), moment.isoformat()],
            },
        )
        evidence_id = row.id
        logger.info(
            "%s version %s %s evidence: passed %s",
            version.model_name,
            version.version,
            _step_label(step),
            comparison.passed,
        )
    assert evidence_id is not None
    return evidence_id


def current_step(session: Session, version: ModelVersion) -> RolloutStep:
    """The version's last rollout step, if it is one that evidence judges."""
    assert version.id is not None
    taken = steps_taken(session, version.id)
    if version.stage != "deployment" or not taken or taken[-1].step not in PHASES:
        at = _step_label(taken[-1]) if taken else version.stage.replace("_", " ")
        raise WorkflowBlockedError(
            f"{version.model_name} version {version.version} is at {at}; shadow and "
            "canary evidence is computed while the version is in shadow or at a "
            "canary step."
        )
    return taken[-1]


def _baseline(
    session: Session, version: ModelVersion, step: RolloutStep, wanted: str | None
) -> str | None:
    if step.step != "shadow":
        return None
    if wanted is None:
        current = production_version(session, version.model_name)
        return current.version if current is not None else None
    found = session.exec(
        select(ModelVersion).where(
            ModelVersion.model_name == version.model_name,
            ModelVersion.version == wanted,
        )
    ).first()
    if found is None or found.id == version.id:
        raise InvalidInputError(
            f"Version {wanted} is not another registered version of "
            f"{version.model_name}; name the version that serves production."
        )
    return found.version


def _thresholds(session: Session, model_name: str) -> dict[str, float]:
    rows = session.exec(
        select(ModelVersion).where(ModelVersion.model_name == model_name)
    ).all()
    return {
        row.version: float(
            row.data_spec.get("decision_threshold") or DEFAULT_DECISION_THRESHOLD
        )
        for row in rows
    }


def decision_thresholds(engine: Engine, model_name: str) -> dict[str, float]:
    """The registered decision threshold of each version of a model, by version."""
    with read_session(engine) as session:
        return _thresholds(session, model_name)


def _compare(
    frame: pd.DataFrame,
    candidate: str,
    step: RolloutStep,
    baseline: str | None,
    thresholds: Mapping[str, float],
    policy: Policy,
) -> ServingComparison:
    if step.step == "shadow":
        return compare_shadow(
            frame,
            candidate_version=candidate,
            thresholds=thresholds,
            baseline_version=baseline,
            policy=policy,
        )
    assert step.percentage is not None
    return compare_canary(
        frame,
        candidate_version=candidate,
        percentage=step.percentage,
        thresholds=thresholds,
        policy=policy,
    )


def _evidence_row(
    version: ModelVersion,
    step: RolloutStep,
    comparison: ServingComparison,
    log: PredictionLog,
    start: datetime,
    end: datetime,
    policy: Policy,
) -> ServingEvidence:
    return ServingEvidence(
        model_version_id=version.id,  # type: ignore[arg-type]
        model_name=version.model_name,
        phase=step.step,
        canary_percentage=step.percentage,
        window_start=start,
        window_end=end,
        baseline_version=comparison.baseline_version,
        metrics={**_json_ready(comparison.metrics), "notes": list(comparison.notes)},
        passed=comparison.passed,
        breaches=[breach.to_dict() for breach in comparison.breaches],
        log_path=log.source.path,
        log_sha256=log.source.sha256,
        log_source=log.source.to_dict(),
        policy_version=policy.version,
        policy_hash=policy.content_hash,
        created_by="",
    )


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _step_label(step: RolloutStep) -> str:
    return step.step if step.percentage is None else f"{step.step}-{step.percentage}"


def serving_evidence_of(engine: Engine, version_id: int) -> list[StoredServingEvidence]:
    """Every stored shadow and canary evidence of a version, newest first."""
    with read_session(engine) as session:
        version = load_version(session, version_id)
        rows = session.exec(
            select(ServingEvidence)
            .where(ServingEvidence.model_version_id == version_id)
            .order_by(col(ServingEvidence.id).desc())
        ).all()
        return [_view(row, version.version) for row in rows]


def versions_with_evidence(engine: Engine, model_name: str) -> list[str]:
    """The versions of ``model_name`` that have shadow or canary evidence."""
    with read_session(engine) as session:
        found = session.exec(
            select(ModelVersion.version)
            .join(
                ServingEvidence,
                col(ServingEvidence.model_version_id) == col(ModelVersion.id),
            )
            .where(ModelVersion.model_name == model_name)
            .distinct()
        ).all()
    return sorted(found, key=lambda version: (len(version), version))


def get_serving_evidence(engine: Engine, evidence_id: int) -> StoredServingEvidence:
    """One stored evidence by id."""
    with read_session(engine) as session:
        row = session.get(ServingEvidence, evidence_id)
        if row is None:
            raise NotFoundError(f"No shadow or canary evidence {evidence_id}.")
        return _view(row, load_version(session, row.model_version_id).version)


def _view(row: ServingEvidence, version: str) -> StoredServingEvidence:
    assert row.id is not None
    return StoredServingEvidence(
        id=row.id,
        model_name=row.model_name,
        version=version,
        phase=row.phase,
        percentage=row.canary_percentage,
        window_start=as_utc(row.window_start),
        window_end=as_utc(row.window_end),
        baseline_version=row.baseline_version,
        metrics=dict(row.metrics or {}),
        passed=row.passed,
        breaches=list(row.breaches or []),
        log_path=row.log_path,
        log_sha256=row.log_sha256,
        policy_version=row.policy_version,
        created_by=row.created_by,
        created_at=as_utc(row.created_at),
    )


def version_id_of(engine: Engine, model_name: str, version: str) -> int:
    """The id of a registered version, or a `NotFoundError` naming it."""
    with read_session(engine) as session:
        row = session.exec(
            select(ModelVersion).where(
                ModelVersion.model_name == model_name, ModelVersion.version == version
            )
        ).first()
    if row is None or row.id is None:
        raise NotFoundError(
            f"{model_name} has no version {version}; list versions on the Inventory "
            "page or register it first."
        )
    return row.id


def summary_lines(stored: StoredServingEvidence) -> list[str]:
    """The evidence as a few lines of text: headline numbers, breaches, notes."""
    metrics = stored.metrics
    against = (
        f"against version {stored.baseline_version}"
        if stored.baseline_version
        else "against the rest of the traffic"
        if stored.phase == "canary" and "rest_rows" in metrics
        else "against the outcomes"
    )
    lines = [
        f"{stored.model_name} version {stored.version}, {stored.step_label} evidence "
        f"{against}: {'PASSED' if stored.passed else 'BREACHED'} the policy "
        f"(version {stored.policy_version}).",
        f"Window {stored.window_start:%Y-%m-%d %H:%M} to "
        f"{stored.window_end:%Y-%m-%d %H:%M} UTC; log {stored.log_path} "
        f"(sha256 {stored.log_sha256[:16]}…).",
    ]
    for key, label in (
        ("agreement", "Decision agreement"),
        ("score_psi", "Score PSI"),
        ("selection_rate_difference", "Selection-rate difference"),
    ):
        if metrics.get(key) is not None:
            lines.append(f"{label}: {metrics[key]:.3f}")
    for group, values in (metrics.get("performance") or {}).items():
        if group != "rows":
            shown = ", ".join(f"{_LABELS[name]} {values[name]:.3f}" for name in values)
            lines.append(f"{group}: {shown}")
    lines.extend(f"BREACH {item['message']}" for item in stored.breaches)
    lines.extend(f"Note: {note}" for note in stored.notes)
    return lines
