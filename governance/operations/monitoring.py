"""Monitoring runs: score each new production window, then fire the triggers.

Each governed model has a configured prediction log (see
``governance.operations.prediction_logs`` for its columns). A run reads the log
of each model with a version in production, splits that version's production
predictions into windows (``policy.monitoring.window``: calendar months by
default) and scores each window that has ended and is not stored yet
(``governance.operations.windows``), with the window's security signals
(``governance.operations.security_signals``). Once per run, new bursts of refused
actions and a broken audit trail raise a ``security`` alert for the security
officer (``governance.operations.security_alerts``).

A window is stored once per version (unique on version and window start), so a
rerun adds only new windows; a window stored before its outcomes arrived gets its
performance filled in by a later run. The triggers of
``governance.operations.triggers`` are evaluated on every newly scored window and
once per run on the schedule; what a fired trigger does (alert, retraining
request, incident) is ``governance.operations.retraining.fire_triggers``.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from governance.access import SYSTEM_USER_ID
from governance.audit import unit_of_work
from governance.errors import GovernanceError, InvalidInputError, NotFoundError
from governance.operations import triggers as rules
from governance.operations.prediction_logs import PredictionLog, read_prediction_log
from governance.operations.retraining import (
    Firing,
    fire_triggers,
    reconcile_requests,
    schedule_start,
)
from governance.operations.triggers import FiredTrigger
from governance.operations.windows import (
    Window,
    WindowScore,
    baseline_from,
    closed_windows,
    latest_assessment,
    load_reference,
    score_window,
    window_of,
)
from governance.operations_tables import MonitoringWindow, PredictionLogLocation
from governance.policy import Policy
from governance.settings import Settings
from governance.store import read_session
from governance.tables import GovernedModel, ModelVersion, utc_now
from governance.workflow._state import as_utc
from governance.workflow.permissions import require_permission

logger = logging.getLogger(__name__)

MAX_LOCATION_CHARS = 1000


@dataclass
class VersionReport:
    """What one run did for one production version."""

    model: str
    version: str
    scored: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    already_stored: int = 0
    triggers: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


@dataclass
class MonitoringReport:
    """What one monitoring run did, per version, and what stopped it per model."""

    versions: list[VersionReport] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    security: list[str] = field(default_factory=list)
    security_findings: int = 0

    @property
    def has_triggers(self) -> bool:
        """Whether any trigger fired in this run."""
        return any(item.triggers for item in self.versions)

    @property
    def needs_attention(self) -> bool:
        """Whether a trigger fired or a security finding stands (new or earlier)."""
        return self.has_triggers or self.security_findings > 0

    def lines(self) -> list[str]:
        """The run as lines for a person (the CLI prints them, the page shows them)."""
        out = []
        for item in self.versions:
            out.append(
                f"{item.model} version {item.version}: {len(item.scored)} window(s) "
                f"scored ({', '.join(item.scored) or 'none new'}), "
                f"{item.already_stored} already stored"
                + (
                    f", {len(item.updated)} updated with outcomes"
                    if item.updated
                    else ""
                )
                + "."
            )
            out.extend(f"  {message}" for message in item.messages)
            out.extend(f"  TRIGGER {text}" for text in item.triggers)
        out.extend(f"SECURITY {text}" for text in self.security)
        out.extend(f"Not monitored: {problem}" for problem in self.problems)
        return out


# Prediction-log locations ---------------------------------------------------------


def set_log_location(
    engine: Engine, *, actor_id: str, model_name: str, location: str
) -> None:
    """Set where the serving platform writes ``model_name``'s prediction log.

    Raises
    ------
    InvalidInputError
        When the location is empty or too long.
    NotFoundError
        When the model is not governed.
    """
    text = (location or "").strip()
    if not text or len(text) > MAX_LOCATION_CHARS:
        raise InvalidInputError(
            "Give the prediction log's location: a CSV or Parquet path, or a Delta "
            f"table folder, of at most {MAX_LOCATION_CHARS} characters."
        )
    with unit_of_work(engine) as work:
        require_permission(work.session, actor_id, "monitoring.configure_log")
        if work.session.get(GovernedModel, model_name) is None:
            raise NotFoundError(
                f"No governed model named {model_name!r}; pick one from the inventory."
            )
        row = work.session.get(PredictionLogLocation, model_name)
        previous = row.location if row else None
        if row is None:
            row = PredictionLogLocation(
                model_name=model_name, location=text, set_by=actor_id
            )
        row.location, row.set_by, row.set_at = text, actor_id, utc_now()
        work.session.add(row)
        work.record(
            actor_id=actor_id,
            action="monitoring.log_configured",
            entity_type="model",
            entity_id=model_name,
            payload={"location": text, "previous": previous},
        )


def log_location(engine: Engine, model_name: str) -> str | None:
    """The configured prediction log of ``model_name``, if any."""
    with read_session(engine) as session:
        row = session.get(PredictionLogLocation, model_name)
    return row.location if row else None


# The run ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Run:
    """One monitoring run: where it writes, under which policy, as whom, when."""

    settings: Settings
    engine: Engine
    policy: Policy
    actor_id: str
    now: datetime

    @property
    def firing(self) -> Firing:
        return Firing(self.settings, self.policy, self.now)


def run_monitoring(
    settings: Settings,
    engine: Engine,
    policy: Policy,
    *,
    actor_id: str,
    model: str | None = None,
    now: datetime | None = None,
) -> MonitoringReport:
    """Score every new window of every production version, and fire the triggers.

    Parameters
    ----------
    actor_id
        Who runs it: an ML engineer, or the system account for a scheduler.
    model
        Only this model; every governed model by default.
    now
        The time of the run (UTC); windows that end after it are left for later.

    Returns
    -------
    MonitoringReport
        Windows scored per version, triggers fired, and per model what kept it
        from being monitored (no log configured, an unreadable log).
    """
    run = _Run(settings, engine, policy, actor_id, as_utc(now or utc_now()))
    with read_session(engine) as session:
        _check_runner(session, actor_id)
    reconcile_requests(engine, model_name=model)
    report = MonitoringReport()
    for version in _production_versions(engine, model):
        try:
            report.versions.append(_monitor_version(run, version))
        except GovernanceError as exc:
            report.problems.append(f"{version.model_name}: {exc}")
            logger.warning("Monitoring of %s stopped: %s", version.model_name, exc)
    if model is not None and not report.versions and not report.problems:
        report.problems.append(f"{model} has no version in production to monitor.")
    try:
        report.security = _check_security(run)
        report.security_findings = len(report.security)
    except GovernanceError as exc:
        logger.warning("The security check could not run: %s", exc)
        report.security = [f"The security check could not run: {exc}"]
    return report


def _check_security(run: _Run) -> list[str]:
    """Alert the security officer of new refusal bursts and a broken audit trail.

    Returns one line per finding, whether its alert is new or was raised earlier.
    """
    from governance.operations.security_alerts import raise_security_alerts

    return raise_security_alerts(
        run.settings,
        run.engine,
        run.policy,
        actor_id=run.actor_id,
        now=run.now,
    )


def _check_runner(session: Session, actor_id: str) -> None:
    """The system account (a scheduler) or a person allowed to run monitoring."""
    if actor_id != SYSTEM_USER_ID:
        require_permission(session, actor_id, "monitoring.run")


def _production_versions(engine: Engine, model: str | None) -> list[ModelVersion]:
    query = select(ModelVersion).where(ModelVersion.stage == "production")
    with read_session(engine) as session:
        if model is not None and session.get(GovernedModel, model) is None:
            raise NotFoundError(
                f"No governed model named {model!r}; list them on the inventory."
            )
        if model is not None:
            query = query.where(ModelVersion.model_name == model)
        return list(session.exec(query.order_by(col(ModelVersion.model_name))).all())


def _monitor_version(run: _Run, version: ModelVersion) -> VersionReport:
    report = VersionReport(version.model_name, version.version)
    location = log_location(run.engine, version.model_name)
    if location is None:
        raise InvalidInputError(
            "no prediction log is configured; set it with `python -m governance "
            "monitor --model NAME --log PATH` or on the Monitoring page."
        )
    log = read_prediction_log(location, model_name=version.model_name)
    frame = _served_by(log, version)
    if frame.empty:
        report.messages.append(
            f"The log at {location} holds no production predictions of version "
            f"{version.version} yet."
        )
    else:
        _monitor_windows(run, version, log, frame, report)
    scheduled = _fire_schedule(run, version)
    report.triggers.extend(item.description for item in scheduled)
    return report


def _monitor_windows(
    run: _Run,
    version: ModelVersion,
    log: PredictionLog,
    frame: pd.DataFrame,
    report: VersionReport,
) -> None:
    reference = load_reference(run.engine, run.policy, version)
    stored = _stored_windows(run.engine, version)
    kind = run.policy.monitoring.window
    first, last = frame["timestamp"].min(), frame["timestamp"].max()
    # Windows after the log's last prediction wait for predictions to arrive: a
    # log that stopped is reported, not stored as months of empty windows.
    until = min(run.now, window_of(last, kind).end)
    if until < run.now:
        report.messages.append(
            f"The log's last production prediction is from {last:%Y-%m-%d %H:%M} "
            "UTC; later windows are scored once predictions arrive."
        )
    for window in closed_windows(first, until, kind):
        times = frame["timestamp"]
        rows = frame[(times >= window.start) & (times < window.end)]
        existing = stored.get(window.start)
        if existing is None:
            score = _with_security(
                run, score_window(rows, window, reference, run.policy)
            )
            fired = _store_new(run, version, score, log)
            report.scored.append(window.label)
        elif _awaits_outcomes(existing, rows, run.policy):
            score = score_window(rows, window, reference, run.policy)
            fired = _store_outcomes(run, version, existing, score)
            report.updated.append(window.label)
        else:
            report.already_stored += 1
            continue
        report.triggers.extend(f"{window.label}: {item.description}" for item in fired)


def _served_by(log: PredictionLog, version: ModelVersion) -> pd.DataFrame:
    frame = log.frame
    return frame[
        (frame["model_version"] == str(version.version))
        & (frame["traffic"] == "production")
    ].reset_index(drop=True)


def _stored_windows(
    engine: Engine, version: ModelVersion
) -> dict[datetime, MonitoringWindow]:
    with read_session(engine) as session:
        rows = session.exec(
            select(MonitoringWindow).where(
                MonitoringWindow.model_version_id == version.id
            )
        ).all()
    return {as_utc(row.window_start): row for row in rows}


def _awaits_outcomes(
    existing: MonitoringWindow, rows: pd.DataFrame, policy: Policy
) -> bool:
    """Whether a stored window lacked outcomes that the log now holds."""
    if existing.auc is not None or existing.rows < policy.monitoring.min_window_rows:
        return False
    known = int(rows["outcome"].notna().sum()) if len(rows) else 0
    return known > existing.outcome_rows and known >= policy.monitoring.min_window_rows


def _with_security(run: _Run, score: WindowScore) -> WindowScore:
    """The window's security signals: refusal bursts and the audit chain."""
    from governance.operations.security_signals import security_signals

    found = security_signals(
        run.engine, run.policy, score.window.start, score.window.end
    )
    messages = score.messages
    if found.needs_attention:
        messages = (*messages, f"Security: {found.describe()}")
    return replace(score, security=_json_safe(asdict(found)), messages=messages)


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    return value


def _triggers_of(
    score: WindowScore, policy: Policy, baseline: dict[str, float] | None
) -> list[FiredTrigger]:
    fired = []
    if score.performance is not None and baseline:
        fired.extend(rules.performance_triggers(score.performance, baseline, policy))
    fired.extend(rules.drift_triggers(score.psi, policy))
    fired.extend(rules.fairness_triggers(score.disparities, policy))
    return fired


def _store_new(
    run: _Run, version: ModelVersion, score: WindowScore, log: PredictionLog
) -> list[FiredTrigger]:
    source = log.source.path + (
        f"@v{log.source.delta_version}" if log.source.delta_version is not None else ""
    )
    with unit_of_work(run.engine) as work:
        _check_runner(work.session, run.actor_id)
        if _window_row(work.session, version, score.window) is not None:
            return []  # another run stored it meanwhile
        baseline = _baseline_in(work.session, version)
        row = MonitoringWindow(
            model_version_id=version.id,  # type: ignore[arg-type]
            window_start=score.window.start,
            window_end=score.window.end,
            label=score.window.label,
            rows=score.rows,
            outcome_rows=score.outcome_rows,
            metrics={**score.metrics(), "baseline": baseline},
            log_source=source[:1100],
            scored_by=run.actor_id,
            scored_at=run.now,
            policy_version=run.policy.version,
            policy_hash=run.policy.content_hash,
        )
        for name, value in _columns(score).items():
            setattr(row, name, value)
        work.session.add(row)
        work.session.flush()
        work.record(
            actor_id=run.actor_id,
            action="monitoring.window_scored",
            entity_type="model_version",
            entity_id=str(version.id),
            payload={
                "window_id": row.id,
                "window": score.window.label,
                "rows": score.rows,
                **_columns(score),
                "log": source,
                "log_sha256": log.source.sha256,
            },
        )
        fired = _triggers_of(score, run.policy, baseline)
        fire_triggers(work, run.firing, version, row, fired)
    return fired


def _baseline_in(session: Session, version: ModelVersion) -> dict[str, float] | None:
    assert version.id is not None
    return baseline_from(latest_assessment(session, version.id, passed=True))


def _window_row(
    session: Session, version: ModelVersion, window: Window
) -> MonitoringWindow | None:
    return session.exec(
        select(MonitoringWindow).where(
            MonitoringWindow.model_version_id == version.id,
            MonitoringWindow.window_start == window.start,
        )
    ).first()


def _store_outcomes(
    run: _Run, version: ModelVersion, existing: MonitoringWindow, score: WindowScore
) -> list[FiredTrigger]:
    if score.performance is None:
        return []
    with unit_of_work(run.engine) as work:
        _check_runner(work.session, run.actor_id)
        row = work.session.get(MonitoringWindow, existing.id)
        if row is None or row.auc is not None:
            return []
        baseline = _baseline_in(work.session, version)
        row.outcome_rows = score.outcome_rows
        row.auc, row.precision, row.recall = (
            score.performance[name] for name in ("auc", "precision", "recall")
        )
        metrics = dict(row.metrics or {})
        metrics["messages"] = [
            text
            for text in metrics.get("messages", [])
            if not text.startswith("Performance not measured")
        ]
        row.metrics = {**metrics, "performance": score.performance}
        work.session.add(row)
        work.record(
            actor_id=run.actor_id,
            action="monitoring.window_outcomes_scored",
            entity_type="model_version",
            entity_id=str(version.id),
            payload={
                "window_id": row.id,
                "window": row.label,
                "outcome_rows": score.outcome_rows,
                "auc": row.auc,
                "precision": row.precision,
                "recall": row.recall,
            },
        )
        fired = (
            rules.performance_triggers(score.performance, baseline, run.policy)
            if baseline
            else []
        )
        fire_triggers(work, run.firing, version, row, fired)
    return fired


def _columns(score: WindowScore) -> dict[str, float | None]:
    performance = score.performance or {}
    disparities = [value for value in score.disparities.values() if value is not None]
    return {
        "auc": performance.get("auc"),
        "precision": performance.get("precision"),
        "recall": performance.get("recall"),
        "score_psi": score.score_psi,
        "max_feature_psi": max(score.psi.values()) if score.psi else None,
        "max_disparity": max(disparities) if disparities else None,
    }


def _fire_schedule(run: _Run, version: ModelVersion) -> list[FiredTrigger]:
    with unit_of_work(run.engine) as work:
        since = schedule_start(work.session, version)
        fired = rules.scheduled_trigger(since, run.now, run.policy)
        if fired is None:
            return []
        fire_triggers(work, run.firing, version, None, [fired])
    return [fired]


# Reading the time series ------------------------------------------------------------


@dataclass(frozen=True)
class WindowView:
    """One stored window as the page and the charts read it."""

    id: int
    label: str
    start: datetime
    rows: int
    outcome_rows: int
    auc: float | None
    precision: float | None
    recall: float | None
    score_psi: float | None
    psi: dict[str, float]
    disparities: dict[str, float | None]
    messages: tuple[str, ...]


def monitored_windows(engine: Engine, version_id: int) -> list[WindowView]:
    """The version's stored windows, oldest first."""
    with read_session(engine) as session:
        rows = session.exec(
            select(MonitoringWindow)
            .where(MonitoringWindow.model_version_id == version_id)
            .order_by(col(MonitoringWindow.window_start))
        ).all()
    return [
        WindowView(
            id=row.id,  # type: ignore[arg-type]
            label=row.label,
            start=as_utc(row.window_start),
            rows=row.rows,
            outcome_rows=row.outcome_rows,
            auc=row.auc,
            precision=row.precision,
            recall=row.recall,
            score_psi=row.score_psi,
            psi=dict((row.metrics or {}).get("psi") or {}),
            disparities=dict((row.metrics or {}).get("disparities") or {}),
            messages=tuple((row.metrics or {}).get("messages") or ()),
        )
        for row in rows
    ]


def monitored_versions(engine: Engine, model_name: str) -> list[tuple[int, str, str]]:
    """(id, version, stage) of the model's versions with stored windows, newest first."""
    with read_session(engine) as session:
        rows = session.exec(
            select(ModelVersion.id, ModelVersion.version, ModelVersion.stage)
            .where(ModelVersion.model_name == model_name)
            .where(
                col(ModelVersion.id).in_(
                    select(MonitoringWindow.model_version_id).distinct()
                )
            )
            .order_by(col(ModelVersion.id).desc())
        ).all()
    return [(row[0], row[1], row[2]) for row in rows if row[0] is not None]


def baseline_of(engine: Engine, version_id: int) -> dict[str, float] | None:
    """The version's performance baseline: its latest passing assessment's test metrics."""
    with read_session(engine) as session:
        return baseline_from(latest_assessment(session, version_id, passed=True))


@dataclass(frozen=True)
class WindowSeries:
    """Stored windows as one series per measurement, for the charts."""

    labels: list[str]
    performance: dict[str, list[float | None]]
    psi: dict[str, list[float | None]]
    score_psi: list[float | None]
    disparities: dict[str, list[float | None]]


def window_series(windows: list[WindowView]) -> WindowSeries:
    """The windows' measurements as series over time, oldest first."""
    features = sorted({name for window in windows for name in window.psi})
    sensitive = sorted({name for window in windows for name in window.disparities})
    return WindowSeries(
        labels=[window.label for window in windows],
        performance={
            metric: [getattr(window, metric) for window in windows]
            for metric in ("auc", "precision", "recall")
        },
        psi={name: [window.psi.get(name) for window in windows] for name in features},
        score_psi=[window.score_psi for window in windows],
        disparities={
            name: [window.disparities.get(name) for window in windows]
            for name in sensitive
        },
    )
