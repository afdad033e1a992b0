"""The assessment job: load a model once, predict once, derive all evidence.

``assess_version`` is what ``python -m governance assess`` and the app's
background job run. It reads the data the version was registered with and
checks that its fingerprints still match, downloads the model's artifacts and
hashes them, loads the model from exactly those bytes in this process, scores
the train sample, test and current data once, and computes every piece of
evidence from those scores. The evidence is written as artifacts (predictions,
SHAP values, the evidently report) into a staging folder that is moved into place
only when everything succeeded, and is recorded with its audit event in one
transaction, so a failed assessment leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine
from sqlmodel import col, select

from governance.assessment.data_standards import assess_data_standards
from governance.assessment.drift import (
    assess_drift,
    population_stability_index,
    profile_reference,
)
from governance.assessment.fairness import assess_fairness
from governance.assessment.performance import assess_performance
from governance.assessment.risk import (
    aggregate_risk,
    bias_risk,
    data_quality_risk,
    performance_risk,
    security_risk,
    stability_risk,
)
from governance.audit import unit_of_work
from governance.datasets import read_dataset
from governance.errors import InvalidInputError, NotFoundError
from governance.policy import Policy
from governance.registration import check_columns, check_target
from governance.settings import Settings
from governance.store import read_session
from governance.tables import Assessment, ModelVersion, utc_now

logger = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
REFERENCE_SCORE_ROWS = 50_000
EVIDENTLY_SAMPLE_ROWS = 5_000
_CHUNK = 1 << 20


@dataclass(frozen=True)
class AssessmentOutcome:
    """A stored assessment: its id, verdict and evidence."""

    assessment_id: int
    passed: bool
    evidence: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        """The machine-readable summary printed by ``assess --json``."""
        evidence = self.evidence
        return {
            "model": evidence["model"],
            "version": evidence["version"],
            "assessment_id": self.assessment_id,
            "passed": self.passed,
            "standards": evidence["standards"],
            "metrics": {
                key: evidence["performance"]["metrics"][key]
                for key in ("auc", "precision", "recall", "f1", "brier_score")
            },
            "fairness": {
                feature["name"]: {
                    "demographic_parity_difference": feature["demographic_parity"][
                        "value"
                    ],
                    "equalized_odds_difference": feature["equalized_odds"]["value"],
                    "passed": feature["passed"],
                }
                for feature in evidence["fairness"]["features"]
            },
            "drift": {
                "psi": evidence["drift"]["psi"],
                "prediction_psi": evidence["drift"]["prediction_psi"],
                "features_to_retrain": evidence["drift"]["features_to_retrain"],
            },
            "risk": {
                "factors": evidence["risk"]["factors"],
                "score": evidence["risk"]["score"],
                "level": evidence["risk"]["level"],
                "required_approvers": evidence["risk"]["required_approvers"],
            },
            "policy_version": evidence["policy"]["version"],
            "artifact_digest": evidence["model_artifacts"]["sha256"],
        }


def _log_progress() -> Progress:
    started = time.perf_counter()

    def log(fraction: float, message: str) -> None:
        elapsed = time.perf_counter() - started
        logger.info("%3.0f%% %s (at %.1f s)", fraction * 100, message, elapsed)

    return log


def find_version(engine: Engine, model: str, version: str) -> ModelVersion:
    """The registered version, or a NotFoundError saying how to register it."""
    with read_session(engine) as session:
        row = session.exec(
            select(ModelVersion).where(
                ModelVersion.model_name == model, ModelVersion.version == str(version)
            )
        ).first()
    if row is None:
        raise NotFoundError(
            f"{model} version {version} is not registered with the console; register it "
            "with `python -m governance register` first."
        )
    return row


def assess_version(
    settings: Settings,
    engine: Engine,
    policy: Policy,
    *,
    model: str,
    version: str,
    actor_id: str,
    progress: Progress | None = None,
    as_of: datetime | None = None,
) -> AssessmentOutcome:
    """Assess one registered version against every standard and store the evidence."""
    progress = progress or _log_progress()
    row = find_version(engine, model, version)
    spec = row.data_spec
    as_of = as_of or utc_now()

    progress(0.05, "Reading the registered data")
    frames = _read_registered_data(spec)
    features = list(spec["features"])

    staging = settings.evidence_dir / ".staging" / uuid.uuid4().hex
    security = latest_security_score(engine, row.id)  # type: ignore[arg-type]
    evidently = _start_evidently(frames, features, staging)
    try:
        progress(0.15, "Loading the model")
        with tempfile.TemporaryDirectory() as scratch:
            estimator, artifacts = load_model(settings, row.model_uri, Path(scratch))

        progress(0.25, "Scoring the data")
        scores = _score_all(estimator, frames, features)
        evidence = _compute_evidence(
            policy,
            row,
            spec,
            frames,
            scores,
            estimator,
            staging,
            as_of,
            artifacts,
            progress,
            evidently,
        )
        evidence["risk"] = _risk(policy, evidence, security)
        progress(0.95, "Storing the evidence")
        return _store(settings, engine, policy, row, evidence, staging, actor_id)
    finally:
        if evidently is not None:
            evidently[0].shutdown(wait=False, cancel_futures=True)
        shutil.rmtree(staging, ignore_errors=True)


def _read_registered_data(spec: dict[str, Any]) -> dict[str, pd.DataFrame]:
    frames: dict[str, pd.DataFrame] = {}
    for part in ("train", "test", "current"):
        if part not in spec:
            continue
        registered = spec[part]
        reference = registered["path"]
        if registered.get("delta_version") is not None:
            reference = f"{reference}@v{registered['delta_version']}"
        frame, ref = read_dataset(reference)
        if ref.sha256 != registered["sha256"]:
            raise InvalidInputError(
                f"The {part} data at {registered['path']} changed since the version was "
                "registered (its SHA-256 differs). Register the version again with the "
                "data it should be assessed on."
            )
        frames[part] = frame
    for part, frame in frames.items():
        check_columns(frame, tuple(spec["features"]), what="feature", dataset=part)
        check_columns(
            frame, tuple(spec["sensitive_features"]), what="sensitive", dataset=part
        )
        if part != "current":
            check_target(frame, spec["target"], dataset=part)
    if "current" in frames and frames["current"].empty:
        raise InvalidInputError(
            "The current data is empty; drift cannot be assessed on no rows."
        )
    return frames


def load_model(
    settings: Settings, model_uri: str, folder: Path
) -> tuple[Any, dict[str, Any]]:
    """Download a model's artifacts, hash them, and load the model from those bytes.

    Only the assessment job calls this; the app never loads a model.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    # MLflow 3 refuses to deserialise any model unless this is set. Only this job
    # process loads models, never the app, and only after hashing the artifacts.
    os.environ["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] = "true"
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    mlflow.set_registry_uri(settings.mlflow_tracking_uri)
    try:
        local = Path(
            mlflow.artifacts.download_artifacts(
                artifact_uri=model_uri, dst_path=str(folder)
            )
        )
    except (MlflowException, OSError) as exc:
        raise NotFoundError(
            f"Cannot fetch the model at {model_uri}: {_first_line(exc)}"
        ) from exc
    artifacts = {
        "sha256": artifact_digest(local),
        "files": sorted(_relative_files(local)),
    }
    try:
        estimator = mlflow.sklearn.load_model(str(local))
    except Exception as exc:  # noqa: BLE001  (any loader failure becomes one clear message)
        raise InvalidInputError(_load_failure(model_uri, exc)) from exc
    if not hasattr(estimator, "predict_proba"):
        raise InvalidInputError(
            f"The model at {model_uri} has no predict_proba; the console governs binary "
            "classifiers that give a probability for the positive class."
        )
    return estimator, artifacts


def _load_failure(model_uri: str, exc: BaseException) -> str:
    text = str(exc)
    if "untrusted" in text.lower() or "skops" in text.lower():
        return (
            f"MLflow's sklearn flavour refused to load {model_uri} because skops does not "
            f"trust some of its types ({_first_line(exc)}). Log the model again with those "
            "types listed in skops_trusted_types=[...] in mlflow.sklearn.log_model."
        )
    if "flavor" in text.lower():
        return (
            f"{model_uri} was not logged with MLflow's sklearn flavour ({_first_line(exc)}). "
            "Log it with mlflow.sklearn.log_model (LightGBM and XGBoost sklearn estimators work)."
        )
    return f"Cannot load the model at {model_uri}: {_first_line(exc)}"


def artifact_digest(folder: Path) -> str:
    """SHA-256 over the relative path and bytes of every file under ``folder``."""
    digest = hashlib.sha256()
    for relative in sorted(_relative_files(folder)):
        digest.update(relative.encode("utf-8") + b"\0")
        with (folder / relative).open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def _relative_files(folder: Path) -> list[str]:
    return [
        str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()
    ]


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _score_all(
    estimator: Any, frames: dict[str, pd.DataFrame], features: list[str]
) -> dict[str, np.ndarray]:
    train = frames["train"]
    if len(train) > REFERENCE_SCORE_ROWS:
        train = train.sample(REFERENCE_SCORE_ROWS, random_state=0)
    parts: dict[str, pd.DataFrame] = {"reference": train}
    parts.update({part: frames[part] for part in ("test", "current") if part in frames})
    return {
        part: _predict(estimator, frame[features], part)
        for part, frame in parts.items()
    }


def _predict(estimator: Any, features: pd.DataFrame, part: str) -> np.ndarray:
    try:
        probabilities = estimator.predict_proba(features)
    except Exception as exc:  # noqa: BLE001  (the model's own code failed; report it plainly)
        raise InvalidInputError(
            f"The model's predict_proba failed on the {part} data: {_first_line(exc)}. "
            "Check that the data has the columns and types the model was trained on."
        ) from exc
    scores = np.asarray(probabilities, dtype=float)
    scores = scores[:, 1] if scores.ndim == 2 else scores
    if not np.isfinite(scores).all():
        raise InvalidInputError(
            f"The model returned missing or infinite scores on the {part} data."
        )
    return scores


def _row_ids(frame: pd.DataFrame) -> list[str]:
    for column in frame.columns:
        name = str(column).lower()
        if (name == "id" or name.endswith("_id")) and frame[column].is_unique:
            return frame[column].astype(str).tolist()
    return [str(position) for position in range(len(frame))]


def _compute_evidence(
    policy: Policy,
    row: ModelVersion,
    spec: dict[str, Any],
    frames: dict[str, pd.DataFrame],
    scores: dict[str, np.ndarray],
    estimator: Any,
    staging: Path,
    as_of: datetime,
    artifacts: dict[str, Any],
    progress: Progress,
    evidently: tuple[ProcessPoolExecutor, Future[dict[str, Any]]] | None,
) -> dict[str, Any]:
    staging.mkdir(parents=True, exist_ok=True)
    features, target = list(spec["features"]), spec["target"]
    threshold = float(spec["decision_threshold"])
    test = frames["test"]
    y_test = test[target].astype(int).to_numpy()

    progress(0.35, "Data standards")
    data = assess_data_standards(
        frames["train"],
        features=features,
        target=target,
        timestamp=spec.get("timestamp"),
        pii_columns=list(spec.get("pii_columns", [])),
        policy=policy,
        as_of=as_of,
    )
    progress(0.4, "Performance and fairness")
    performance = assess_performance(
        y_test, scores["test"], threshold=threshold, policy=policy
    )
    sensitive = test[list(spec["sensitive_features"])].astype(str)
    fairness = assess_fairness(
        y_test, scores["test"], sensitive, threshold=threshold, policy=policy
    )

    progress(0.5, "Drift")
    drift = _drift(policy, spec, frames, scores)
    progress(0.6, "Stability")
    stability = _stability(
        policy, spec, frames, scores, performance.to_dict()["metrics"], threshold
    )

    progress(0.65, "Explanations (SHAP)")
    explanations = _explanations(policy, estimator, test, features, staging)
    progress(0.8, "Evidently data-drift report (running beside the rest)")
    report = _finish_evidently(evidently)

    _save_predictions(staging, spec, frames, scores)
    standards = [
        *[standard.to_dict() for standard in data.standards],
        *performance.to_dict()["standards"],
        *[
            standard
            for feature in fairness.to_dict()["features"]
            for standard in feature["standards"]
        ],
        explanations["standard"],
    ]
    return {
        "model": row.model_name,
        "version": row.version,
        "model_version_id": row.id,
        "run_id": row.run_id,
        "model_uri": row.model_uri,
        "model_artifacts": artifacts,
        "data": {
            part: spec[part] for part in ("train", "test", "current") if part in spec
        },
        "policy": {"version": policy.version, "content_hash": policy.content_hash},
        "assessed_at": as_of.isoformat(),
        "decision_threshold": threshold,
        "passed": all(standard["passed"] is not False for standard in standards),
        "indicators": [
            indicator
            for feature in fairness.to_dict()["features"]
            for indicator in feature["indicators"]
        ],
        "standards": standards,
        "data_standards": data.to_dict(),
        "performance": performance.to_dict(),
        "fairness": fairness.to_dict(),
        "drift": drift,
        "stability": stability,
        "explanations": explanations,
        "evidently": report,
    }


def _drift(
    policy: Policy,
    spec: dict[str, Any],
    frames: dict[str, pd.DataFrame],
    scores: dict[str, np.ndarray],
) -> dict[str, Any]:
    features = list(spec["features"])
    if "current" not in frames:
        return {
            "psi": {},
            "flags": {},
            "prediction_psi": None,
            "features_to_retrain": [],
            "windows": {},
            "assessed": False,
        }
    profile = profile_reference(frames["train"][features], bins=policy.drift.psi_bins)
    drift = assess_drift(profile, frames["current"][features], policy=policy).to_dict()
    drift["prediction_psi"] = population_stability_index(
        scores["reference"], scores["current"], bins=policy.drift.psi_bins
    )
    drift["windows"] = _drift_windows(
        profile, frames["current"], features, spec.get("timestamp")
    )
    drift["distributions"] = {
        name: profile.features[name].compare(frames["current"][name]).to_dict()
        for name in features
    }
    drift["reference_profile"] = profile.to_dict()
    drift["assessed"] = True
    return drift


def _drift_windows(
    profile: Any, current: pd.DataFrame, features: list[str], timestamp: str | None
) -> dict[str, dict[str, float]]:
    if not timestamp or timestamp not in current.columns:
        return {}
    months = pd.to_datetime(current[timestamp], utc=True, errors="coerce").dt.strftime(
        "%Y-%m"
    )
    return {
        month: profile.psi(window[features], max_workers=1)
        for month, window in current.groupby(months, sort=True)
        if len(window) > 0
    }


def _stability(
    policy: Policy,
    spec: dict[str, Any],
    frames: dict[str, pd.DataFrame],
    scores: dict[str, np.ndarray],
    baseline: dict[str, float],
    threshold: float,
) -> dict[str, Any]:
    """Spread on the test data; degradation of the current data against it."""
    from governance.assessment.stability import assess_stability, degradation_of

    test, target, timestamp = frames["test"], spec["target"], spec.get("timestamp")
    stability = assess_stability(
        test[target].astype(int).to_numpy(),
        scores["test"],
        threshold=threshold,
        timestamps=test[timestamp] if timestamp else None,
        baseline=None,
        policy=policy,
    ).to_dict()
    current = frames.get("current")
    stability["current_performance"] = None
    if current is not None and target in current and current[target].nunique() == 2:
        now = assess_performance(
            current[target].astype(int).to_numpy(),
            scores["current"],
            threshold=threshold,
            policy=policy,
        ).metrics
        stability["current_performance"] = {
            key: now[key] for key in ("auc", "precision", "recall")
        }
        stability["degradation"] = [
            asdict(
                degradation_of(
                    key,
                    baseline=baseline[key],
                    observed=now[key],
                    scope="current",
                    policy=policy,
                )
            )
            for key in ("auc", "precision", "recall")
            if baseline[key] > 0
        ]
        drops = [item["relative_drop"] for item in stability["degradation"]]
        stability["degradation_fraction"] = max(drops) if drops else None
        stability["is_degraded"] = any(
            item["is_degraded"] for item in stability["degradation"]
        )
    return stability


def _explanations(
    policy: Policy,
    estimator: Any,
    test: pd.DataFrame,
    features: list[str],
    staging: Path,
) -> dict[str, Any]:
    from governance.assessment.explain import (
        explain,
        save_explanation,
        shap_sample_index,
    )

    sample = test.iloc[
        shap_sample_index(test, rows=policy.explanations.shap_sample_rows, seed=0)
    ]
    explanation = explain(estimator, sample[features], row_ids=_row_ids(sample))
    save_explanation(explanation, staging / "shap")
    importance = explanation.global_importance()
    return {
        "rows": len(sample),
        "output_space": explanation.output_space,
        "base_value": float(explanation.base_value),
        "additivity_error": float(explanation.additivity_error),
        "is_additive": bool(explanation.is_additive),
        "global_importance": {
            str(name): float(value) for name, value in importance.items()
        },
        "artifact": "shap",
        "standard": {
            "name": "explanations_available",
            "value": "additive" if explanation.is_additive else "not additive",
            "threshold": "SHAP values for a sample, additive",
            "passed": bool(explanation.is_additive),
            "detail": f"SHAP values for {len(sample)} rows; additivity error {explanation.additivity_error:.2e}",
        },
    }


def _evidently_job(
    reference: pd.DataFrame, current: pd.DataFrame, html: str
) -> dict[str, Any]:
    """Run in a child process: evidently's report on a sample, saved as HTML."""
    from governance.assessment.drift_report import evidently_drift_report, save_html

    report = evidently_drift_report(
        reference,
        current,
        columns=list(reference.columns),
        sample_rows=EVIDENTLY_SAMPLE_ROWS,
        seed=0,
    )
    save_html(report, Path(html))
    return report.to_dict()


def _start_evidently(
    frames: dict[str, pd.DataFrame], features: list[str], staging: Path
) -> tuple[ProcessPoolExecutor, Future[dict[str, Any]]] | None:
    """Start evidently's report in a second process, overlapping the model work.

    Importing evidently alone takes seconds; in its own process it runs beside
    model loading and SHAP on the second core instead of after them.
    """
    if "current" not in frames:
        return None
    from governance.assessment.drift_report import deterministic_sample

    staging.mkdir(parents=True, exist_ok=True)
    # The same samples evidently_drift_report would draw (seed, seed + 1), drawn
    # here so only 5,000 rows of each travel to the child process.
    reference = deterministic_sample(
        frames["train"][features], EVIDENTLY_SAMPLE_ROWS, 0
    )
    current = deterministic_sample(
        frames["current"][features], EVIDENTLY_SAMPLE_ROWS, 1
    )
    pool = ProcessPoolExecutor(
        max_workers=1, mp_context=multiprocessing.get_context("spawn")
    )
    html = str(staging / "evidently_drift.html")
    return pool, pool.submit(_evidently_job, reference, current, html)


def _finish_evidently(
    started: tuple[ProcessPoolExecutor, Future[dict[str, Any]]] | None,
) -> dict[str, Any]:
    if started is None:
        return {"artifact": None, "summary": None}
    pool, future = started
    try:
        summary = future.result()
    finally:
        pool.shutdown(cancel_futures=True)
    return {"artifact": "evidently_drift.html", "summary": summary}


def _save_predictions(
    staging: Path,
    spec: dict[str, Any],
    frames: dict[str, pd.DataFrame],
    scores: dict[str, np.ndarray],
) -> None:
    keep = [
        *spec["sensitive_features"],
        *([spec["timestamp"]] if spec.get("timestamp") else []),
    ]
    parts = []
    for part in ("test", "current"):
        if part not in frames:
            continue
        frame = frames[part]
        table = frame[[column for column in keep if column in frame.columns]].copy()
        table.insert(0, "row_id", _row_ids(frame))
        table.insert(1, "split", part)
        table["y_true"] = (
            frame[spec["target"]].astype("Int8")
            if spec["target"] in frame.columns
            else pd.NA
        )
        table["y_score"] = scores[part]
        parts.append(table)
    pd.concat(parts, ignore_index=True).to_parquet(
        staging / "predictions.parquet", index=False
    )


def latest_security_score(engine: Engine, model_version_id: int) -> float | None:
    """The security risk score of the version's latest security assessment, if any."""
    from governance.workflow_tables import SecurityAssessment

    with read_session(engine) as session:
        found = session.exec(
            select(SecurityAssessment.risk_score)
            .where(SecurityAssessment.model_version_id == model_version_id)
            .order_by(col(SecurityAssessment.id).desc())
            .limit(1)
        ).first()
    return None if found is None else float(found)


def _risk(
    policy: Policy, evidence: dict[str, Any], security: float | None
) -> dict[str, Any]:
    """The five risk factors from the evidence; security unassessed counts as 1."""
    data, stability, drift = (
        evidence["data_standards"],
        evidence["stability"],
        evidence["drift"],
    )
    metrics = evidence["performance"]["metrics"]
    features = evidence["fairness"]["features"]
    worst_dpd = max((f["demographic_parity"]["value"] or 0.0) for f in features)
    worst_eod = max((f["equalized_odds"]["value"] or 0.0) for f in features)
    factors = {
        "data_quality": data_quality_risk(
            data["quality_score"],
            data["rows"],
            data["training_age_days"],
            bool(data["pii_in_features"]),
            policy,
        ),
        "performance": performance_risk(
            metrics["auc"],
            metrics["precision"],
            metrics["recall"],
            metrics["brier_score"],
            policy,
        ),
        "bias": bias_risk(worst_dpd, worst_eod, policy),
        "stability": stability_risk(
            stability["metric_spread"],
            stability["degradation_fraction"],
            max(drift["psi"].values()) if drift["psi"] else None,
            policy,
        ),
        "security": None if security is None else security_risk(security),
    }
    return aggregate_risk(factors, policy).to_dict()


def _store(
    settings: Settings,
    engine: Engine,
    policy: Policy,
    row: ModelVersion,
    evidence: dict[str, Any],
    staging: Path,
    actor_id: str,
) -> AssessmentOutcome:
    key = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    final = settings.evidence_dir / _safe(row.model_name) / _safe(row.version) / key
    evidence["artifact_dir"] = str(final)
    (staging / "evidence.json").write_text(
        json.dumps(evidence, indent=1, default=str), encoding="utf-8"
    )
    final.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(staging), str(final))
    try:
        with unit_of_work(engine) as work:
            assessment = Assessment(
                model_version_id=row.id,  # type: ignore[arg-type]
                run_id=row.run_id,
                passed=evidence["passed"],
                risk_score=evidence["risk"]["score"],
                risk_level=evidence["risk"]["level"],
                evidence=json.loads(json.dumps(evidence, default=str)),
                artifact_dir=str(final),
                created_by=actor_id,
                policy_version=policy.version,
                policy_hash=policy.content_hash,
            )
            work.session.add(assessment)
            work.session.flush()
            work.record(
                actor_id=actor_id,
                action="assessment.recorded",
                entity_type="model_version",
                entity_id=f"{row.model_name}/{row.version}",
                payload={
                    "assessment_id": assessment.id,
                    "passed": evidence["passed"],
                    "risk_level": evidence["risk"]["level"],
                    "risk_score": evidence["risk"]["score"],
                    "artifact_digest": evidence["model_artifacts"]["sha256"],
                    "data_sha256": {
                        part: ref["sha256"] for part, ref in evidence["data"].items()
                    },
                    "policy_version": policy.version,
                    "policy_hash": policy.content_hash,
                },
            )
            assessment_id = assessment.id
    except BaseException:
        # The evidence is recorded or not at all: no folder without its row.
        shutil.rmtree(final, ignore_errors=True)
        raise
    logger.info(
        "Assessment %s of %s %s: passed=%s",
        assessment_id,
        row.model_name,
        row.version,
        evidence["passed"],
    )
    assert assessment_id is not None
    return AssessmentOutcome(assessment_id, evidence["passed"], evidence)


def _safe(name: str) -> str:
    return "".join(char if char.isalnum() or char in "-_." else "_" for char in name)


def latest_assessment(engine: Engine, model_version_id: int) -> Assessment | None:
    """The newest assessment of a version, or None when it was never assessed."""
    with read_session(engine) as session:
        return session.exec(
            select(Assessment)
            .where(Assessment.model_version_id == model_version_id)
            .order_by(col(Assessment.id).desc())
            .limit(1)
        ).first()
