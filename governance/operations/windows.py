"""Production windows of a model version, and what is measured on each.

Pure functions over a validated prediction log (see
``governance.operations.prediction_logs``), plus `load_reference`, which reads
what a version's windows are compared with: the baseline performance, the training
data's reference profile and the test-set scores stored with its assessment.

- Performance at the version's decision threshold when outcomes are known (AUC,
  precision, recall; ``governance.assessment.performance``).
- PSI per feature against the reference profile, and PSI of the scores against
  the test-set scores (``governance.assessment.drift``).
- The demographic parity difference per sensitive feature
  (``governance.assessment.fairness``).

Too few rows, no outcomes yet, a feature missing from the log or a reference that
cannot be read each leave a message saying what was not measured and why.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from dateutil.relativedelta import relativedelta
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from governance.assessment.drift import ReferenceProfile, population_stability_index
from governance.assessment.fairness import demographic_parity_difference
from governance.assessment.performance import assess_performance
from governance.datasets import read_dataset
from governance.errors import GovernanceError, InvalidInputError
from governance.evidence import evidence_by_id, load_predictions
from governance.policy import Policy
from governance.store import read_session
from governance.tables import Assessment, ModelVersion
from governance.workflow._state import as_utc

logger = logging.getLogger(__name__)

WINDOW_STEPS = {
    "daily": relativedelta(days=1),
    "weekly": relativedelta(weeks=1),
    "monthly": relativedelta(months=1),
}
PERFORMANCE_METRICS = ("auc", "precision", "recall", "f1", "brier_score")
NO_OUTCOMES = "Performance not measured: no outcomes yet."


@dataclass(frozen=True)
class Window:
    """A time window ``start <= timestamp < end`` (UTC) and its label."""

    start: datetime
    end: datetime
    label: str


@dataclass(frozen=True)
class Reference:
    """What a version's windows are compared with, read once per run."""

    version_id: int
    threshold: float
    features: tuple[str, ...]
    sensitive_features: tuple[str, ...]
    baseline: dict[str, float] | None
    profile: ReferenceProfile | None
    test_scores: np.ndarray | None
    gaps: tuple[str, ...] = ()


@dataclass(frozen=True)
class WindowScore:
    """Everything measured on one window; ``messages`` say what was not."""

    window: Window
    rows: int
    outcome_rows: int
    performance: dict[str, float] | None
    psi: dict[str, float]
    score_psi: float | None
    disparities: dict[str, float | None]
    messages: tuple[str, ...]
    security: dict[str, Any] | None = None

    def metrics(self) -> dict[str, Any]:
        """The window's full detail as stored in ``MonitoringWindow.metrics``."""
        return {
            "performance": self.performance,
            "psi": self.psi,
            "score_psi": self.score_psi,
            "disparities": self.disparities,
            "security": self.security,
            "messages": list(self.messages),
        }


def window_of(moment: datetime, kind: str) -> Window:
    """The window of ``kind`` (``policy.monitoring.window``) holding ``moment``."""
    moment = as_utc(moment)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if kind == "monthly":
        start, label = day.replace(day=1), f"{day:%Y-%m}"
    elif kind == "weekly":
        start = day - timedelta(days=day.weekday())
        label = f"{start:%Y-%m-%d}"
    else:
        start, label = day, f"{day:%Y-%m-%d}"
    return Window(start, start + WINDOW_STEPS[kind], label)


def closed_windows(first: datetime, now: datetime, kind: str) -> list[Window]:
    """Every window from the one holding ``first`` to the last that ended by ``now``.

    A window still running is left for a later run, so a partial window is never
    stored as if it were whole.
    """
    windows = []
    window = window_of(first, kind)
    while window.end <= as_utc(now):
        windows.append(window)
        window = window_of(window.end, kind)
    return windows


def score_window(
    frame: pd.DataFrame, window: Window, reference: Reference, policy: Policy
) -> WindowScore:
    """Measure one window of a version's production predictions.

    Parameters
    ----------
    frame
        The window's rows of a validated prediction log.
    window
        The window they fall in.
    reference
        The version's baseline, reference profile and test-set scores.
    policy
        The governance policy; reads ``monitoring``, ``drift`` and ``fairness``.

    Returns
    -------
    WindowScore
        The measurements, with a message for each one not taken and why.
    """
    rows, minimum = len(frame), policy.monitoring.min_window_rows
    outcome_rows = int(frame["outcome"].notna().sum()) if rows else 0
    if rows < minimum:
        message = (
            "No predictions in this window."
            if rows == 0
            else f"Window not measured: {rows} predictions, fewer than the "
            f"{minimum} the policy asks for (monitoring.min_window_rows)."
        )
        return WindowScore(window, rows, outcome_rows, None, {}, None, {}, (message,))

    messages: list[str] = list(reference.gaps)
    performance = _performance(frame, reference, policy, messages)
    psi = _feature_psi(frame, reference, messages)
    score_psi = _score_psi(frame, reference, policy)
    disparities = _disparities(frame, reference, policy, messages)
    return WindowScore(
        window,
        rows,
        outcome_rows,
        performance,
        psi,
        score_psi,
        disparities,
        tuple(messages),
    )


def _performance(
    frame: pd.DataFrame, reference: Reference, policy: Policy, messages: list[str]
) -> dict[str, float] | None:
    known = frame[frame["outcome"].notna()]
    minimum = policy.monitoring.min_window_rows
    if known.empty:
        messages.append(NO_OUTCOMES)
        return None
    if len(known) < minimum:
        messages.append(
            f"Performance not measured: {len(known)} outcomes known so far, fewer "
            f"than {minimum} (monitoring.min_window_rows)."
        )
        return None
    labels = known["outcome"].to_numpy(dtype=float).astype(int)
    if len(np.unique(labels)) < 2:
        messages.append(
            f"Performance not measured: every known outcome is {labels[0]}; AUC, "
            "precision and recall need both outcomes."
        )
        return None
    measured = assess_performance(
        labels,
        known["score"].to_numpy(dtype=float),
        threshold=reference.threshold,
        policy=policy,
    )
    return {name: float(measured.metrics[name]) for name in PERFORMANCE_METRICS}


def _feature_psi(
    frame: pd.DataFrame, reference: Reference, messages: list[str]
) -> dict[str, float]:
    if reference.profile is None:
        return {}
    psi = {}
    for name in reference.features:
        if name not in frame.columns:
            messages.append(
                f"Drift not measured on {name}: the prediction log has no {name} "
                "column."
            )
            continue
        if name not in reference.profile.features:
            messages.append(f"Drift not measured on {name}: not in the reference.")
            continue
        try:
            psi[name] = reference.profile.features[name].psi(_plain(frame[name]))
        except InvalidInputError as exc:
            messages.append(f"Drift not measured on {name}: {exc}")
    return psi


def _plain(values: pd.Series) -> pd.Series:
    """Nullable pandas numbers as numpy floats, which the PSI kernel expects."""
    if isinstance(values.dtype, pd.api.extensions.ExtensionDtype) and (
        pd.api.types.is_numeric_dtype(values.dtype)
    ):
        return values.astype("float64")
    return values


def _score_psi(
    frame: pd.DataFrame, reference: Reference, policy: Policy
) -> float | None:
    if reference.test_scores is None:
        return None
    return population_stability_index(
        reference.test_scores,
        frame["score"].to_numpy(dtype=float),
        bins=policy.drift.psi_bins,
    )


def _disparities(
    frame: pd.DataFrame, reference: Reference, policy: Policy, messages: list[str]
) -> dict[str, float | None]:
    predicted = (frame["score"].to_numpy(dtype=float) >= reference.threshold).astype(
        int
    )
    disparities: dict[str, float | None] = {}
    for name in reference.sensitive_features:
        if name not in frame.columns:
            messages.append(
                f"Fairness not measured across {name}: the prediction log has no "
                f"{name} column."
            )
            continue
        # Demographic parity compares selection rates, which need only the
        # predictions; the predictions stand in for the outcomes not used.
        value = demographic_parity_difference(
            predicted,
            predicted,
            sensitive_features=frame[name].astype(str),
            min_group_size=policy.fairness.min_group_size,
        )
        disparities[name] = None if math.isnan(value) else float(value)
        if disparities[name] is None:
            messages.append(
                f"Fairness not measured across {name}: fewer than two groups of at "
                f"least {policy.fairness.min_group_size} rows "
                "(fairness.min_group_size)."
            )
    return disparities


# The reference a version is compared with -------------------------------------------


def load_reference(engine: Engine, policy: Policy, version: ModelVersion) -> Reference:
    """The version's baseline performance, reference profile and test-set scores.

    The baseline is the test performance of the latest passing assessment; the
    profile and the scores come from the same assessment (or the latest one), and
    the profile from the training data when the assessment stored none.
    """
    assert version.id is not None
    spec = version.data_spec or {}
    gaps: list[str] = []
    with read_session(engine) as session:
        passing = latest_assessment(session, version.id, passed=True)
        latest = passing or latest_assessment(session, version.id, passed=None)
    if passing is None:
        gaps.append(
            "No performance baseline: the version has no passing assessment, so the "
            "performance-drop trigger is not evaluated."
        )
    baseline = baseline_from(passing)
    profile = _profile(latest, spec, policy, gaps)
    return Reference(
        version_id=version.id,
        threshold=float(spec.get("decision_threshold", 0.5)),
        features=tuple(spec.get("features") or ()),
        sensitive_features=tuple(spec.get("sensitive_features") or ()),
        baseline=baseline,
        profile=profile,
        test_scores=_test_scores(engine, latest, gaps),
        gaps=tuple(gaps),
    )


def latest_assessment(
    session: Session, version_id: int, *, passed: bool | None
) -> Assessment | None:
    """The version's newest assessment (only passing ones when ``passed``)."""
    query = select(Assessment).where(Assessment.model_version_id == version_id)
    if passed is not None:
        query = query.where(Assessment.passed == passed)
    return session.exec(query.order_by(col(Assessment.id).desc()).limit(1)).first()


def baseline_from(assessment: Assessment | None) -> dict[str, float] | None:
    """The test performance an assessment measured: the performance baseline."""
    if assessment is None:
        return None
    metrics = ((assessment.evidence or {}).get("performance") or {}).get("metrics")
    if not metrics:
        return None
    return {
        name: float(metrics[name]) for name in PERFORMANCE_METRICS if name in metrics
    }


def _profile(
    assessment: Assessment | None,
    spec: dict[str, Any],
    policy: Policy,
    gaps: list[str],
) -> ReferenceProfile | None:
    stored = ((assessment.evidence or {}) if assessment else {}).get("drift") or {}
    profile = stored.get("reference_profile")
    if profile and int(profile.get("bins", 0)) == policy.drift.psi_bins:
        return ReferenceProfile.from_dict(profile)
    train = spec.get("train") or {}
    if not train.get("path"):
        gaps.append(
            "Drift not measured: no reference profile was stored and the version's "
            "training data is not registered. Assess the version first."
        )
        return None
    from governance.assessment.drift import profile_reference

    reference = train["path"]
    if train.get("delta_version") is not None:
        reference = f"{reference}@v{train['delta_version']}"
    try:
        frame, _ = read_dataset(reference)
        features = [name for name in spec.get("features") or [] if name in frame]
        return profile_reference(frame[features], bins=policy.drift.psi_bins)
    except GovernanceError as exc:
        gaps.append(f"Drift not measured: the training data cannot be read ({exc}).")
        return None


def _test_scores(
    engine: Engine, assessment: Assessment | None, gaps: list[str]
) -> np.ndarray | None:
    if assessment is None or assessment.id is None:
        gaps.append("Score drift not measured: the version was never assessed.")
        return None
    try:
        stored = evidence_by_id(engine, assessment.id)
        scores = load_predictions(stored, split="test")["y_score"]
    except (GovernanceError, OSError, KeyError) as exc:
        gaps.append(
            f"Score drift not measured: the assessment's test-set scores cannot be "
            f"read ({exc}). Assess the version again."
        )
        return None
    return scores.to_numpy(dtype=float)
