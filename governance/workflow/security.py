"""The security officer's assessment: automated checks, questionnaire, risk score.

The automated checks scan the model's serialized artifacts for pickle opcodes
that import dangerous globals (``os.system``, ``builtins.eval``...) with
picklescan, which disassembles the pickle stream and never executes it; they
also look for PII used as a model input and list who can change the model. The
questionnaire covers what no scan can see. Together they give the security risk
factor of the framework's "Risk Factors" (0-1): the share of checks and answers
that failed, and 1.0 when an artifact can run code on load.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from governance.audit import unit_of_work
from governance.errors import InvalidInputError, WorkflowBlockedError
from governance.policy import Policy
from governance.tables import RoleAssignment
from governance.workflow._state import (
    bump,
    current_cycle,
    load_version,
)
from governance.workflow.permissions import require_permission
from governance.workflow_tables import SecurityAssessment

logger = logging.getLogger(__name__)

# Files picklescan reads as pickles, archives of pickles, or PyTorch/NumPy
# containers; other artifact files (MLmodel, YAML, JSON, text) hold no pickle.
SCANNED_SUFFIXES = frozenset(
    {
        ".pkl",
        ".pickle",
        ".joblib",
        ".dat",
        ".data",
        ".bin",
        ".pt",
        ".pth",
        ".ckpt",
        ".npy",
        ".npz",
        ".zip",
        ".skops",
    }
)
SECURITY_QUESTIONS: Mapping[str, str] = {
    "access_restricted": (
        "Is write access to the model's registry entry and artifacts limited to "
        "named people?"
    ),
    "secrets_absent": "Are the artifacts and code free of credentials and keys?",
    "endpoint_authenticated": "Does the serving endpoint require authentication?",
    "inputs_validated": "Does the serving endpoint validate and bound its inputs?",
    "dependencies_reviewed": (
        "Were the model's dependencies checked for known vulnerabilities?"
    ),
    "incident_contact": "Is a named contact on call for security incidents?",
}
# Roles whose holders can register, change or ship a version of a model.
CHANGING_ROLES = ("data_scientist", "ml_engineer")


@dataclass(frozen=True)
class PickleFinding:
    """One global imported by a pickle in an artifact file."""

    file: str
    module: str
    name: str
    safety: str


@dataclass(frozen=True)
class ArtifactScan:
    """What picklescan found in a folder of model artifacts."""

    files_scanned: int
    dangerous: tuple[PickleFinding, ...]
    suspicious: tuple[PickleFinding, ...]
    unreadable: tuple[str, ...] = field(default=())

    @property
    def is_clean(self) -> bool:
        """No dangerous import and every pickle could be read."""
        return not self.dangerous and not self.unreadable

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable values."""
        return {
            "files_scanned": self.files_scanned,
            "dangerous": [asdict(item) for item in self.dangerous],
            "suspicious": [asdict(item) for item in self.suspicious],
            "unreadable": list(self.unreadable),
            "is_clean": self.is_clean,
        }


def scan_model_artifacts(folder: Path) -> ArtifactScan:
    """Scan every pickle-bearing file under ``folder`` with picklescan.

    Parameters
    ----------
    folder
        A folder of model artifacts, e.g. an MLflow model directory.

    Returns
    -------
    ArtifactScan
        Dangerous and suspicious globals per file, and files that could not be
        parsed (counted as not clean: an unreadable pickle cannot be vouched for).

    Raises
    ------
    InvalidInputError
        When ``folder`` is not a directory.
    """
    from picklescan.scanner import SafetyLevel, scan_file_path

    if not folder.is_dir():
        raise InvalidInputError(
            f"{folder} is not a folder of model artifacts; download the model first."
        )
    dangerous: list[PickleFinding] = []
    suspicious: list[PickleFinding] = []
    unreadable: list[str] = []
    scanned = 0
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in SCANNED_SUFFIXES:
            continue
        relative = str(path.relative_to(folder))
        result = scan_file_path(str(path))
        scanned += 1
        if result.scan_err:
            unreadable.append(relative)
        for found in result.globals:
            finding = PickleFinding(
                relative, found.module, found.name, found.safety.value
            )
            if found.safety is SafetyLevel.Dangerous:
                dangerous.append(finding)
            elif found.safety is SafetyLevel.Suspicious:
                suspicious.append(finding)
    logger.info(
        "Scanned %s artifact files under %s: %s dangerous imports",
        scanned,
        folder,
        len(dangerous),
    )
    return ArtifactScan(scanned, tuple(dangerous), tuple(suspicious), tuple(unreadable))


def run_automated_checks(
    folder: Path, data_spec: Mapping[str, Any], people_who_can_change: list[str]
) -> dict[str, Any]:
    """The automated security checks of one version.

    Parameters
    ----------
    folder
        The version's model artifacts.
    data_spec
        The version's registration data (features, PII columns).
    people_who_can_change
        Ids of the people who can register or ship versions of the model.

    Returns
    -------
    dict
        ``checks``: a list of {name, passed, detail}; ``artifact_scan``: the
        picklescan result; ``people_who_can_change``: the ids, for the record.
    """
    scan = scan_model_artifacts(folder)
    features = set(data_spec.get("features") or [])
    exposed = sorted(features & set(data_spec.get("pii_columns") or []))
    checks = [
        {
            "name": "artifacts_free_of_unsafe_pickle",
            "passed": scan.is_clean,
            "detail": _scan_detail(scan),
        },
        {
            "name": "no_pii_in_model_inputs",
            "passed": not exposed,
            "detail": (
                f"PII columns used as model inputs: {', '.join(exposed)}."
                if exposed
                else "No PII column is a model input."
            ),
        },
        {
            "name": "people_who_can_change_known",
            "passed": bool(people_who_can_change),
            "detail": f"{len(people_who_can_change)} people can register or ship "
            "versions of this model.",
        },
    ]
    return {
        "checks": checks,
        "artifact_scan": scan.to_dict(),
        "people_who_can_change": people_who_can_change,
    }


def _scan_detail(scan: ArtifactScan) -> str:
    if scan.dangerous:
        shown = ", ".join(
            f"{item.module}.{item.name} in {item.file}" for item in scan.dangerous[:5]
        )
        return f"Unsafe pickle imports that run code on load: {shown}."
    if scan.unreadable:
        return f"Files picklescan could not parse: {', '.join(scan.unreadable)}."
    return f"{scan.files_scanned} artifact files scanned; no unsafe pickle import."


def check_answers(answers: Mapping[str, Any]) -> dict[str, bool]:
    """The questionnaire's answers as booleans, or an error naming what is missing."""
    missing = [key for key in SECURITY_QUESTIONS if key not in answers]
    unknown = sorted(set(answers) - set(SECURITY_QUESTIONS))
    if missing or unknown:
        raise InvalidInputError(
            "The security questionnaire needs a yes/no answer to each of "
            f"{', '.join(SECURITY_QUESTIONS)}; missing: {', '.join(missing) or 'none'}, "
            f"unknown: {', '.join(unknown) or 'none'}."
        )
    if not all(isinstance(value, bool) for value in answers.values()):
        raise InvalidInputError("Answer each security question with yes or no.")
    return {key: bool(answers[key]) for key in SECURITY_QUESTIONS}


def security_risk_score(
    answers: Mapping[str, bool], automated: Mapping[str, Any]
) -> float:
    """The security risk factor in [0, 1].

    The share of questionnaire answers and automated checks that failed; an
    artifact with a dangerous pickle import scores the maximum, since loading it
    runs someone else's code.
    """
    if automated["artifact_scan"]["dangerous"]:
        return 1.0
    outcomes = [*answers.values(), *(check["passed"] for check in automated["checks"])]
    return sum(1 for ok in outcomes if not ok) / len(outcomes)


def record_security_assessment(
    engine: Engine,
    *,
    actor_id: str,
    policy: Policy,
    version_id: int,
    artifact_dir: Path,
    answers: Mapping[str, Any],
    note: str = "",
) -> int:
    """Run the automated checks, score them with the questionnaire, and record it.

    The assessment passes when every automated check passes and its score is
    below the policy's high-risk band.

    Returns
    -------
    int
        The id of the stored security assessment.

    Raises
    ------
    PermissionDeniedError
        Unless the actor is a security officer.
    WorkflowBlockedError
        When the version is not in the risk-assessment stage.
    """
    checked_answers = check_answers(answers)
    with unit_of_work(engine) as work:
        require_permission(work.session, actor_id, "risk.security_assessment")
        version = load_version(work.session, version_id)
        if version.stage != "risk_assessment":
            raise WorkflowBlockedError(
                f"{version.model_name} version {version.version} is in {version.stage}; "
                "the security assessment belongs to the risk-assessment stage."
            )
        automated = run_automated_checks(
            artifact_dir, version.data_spec or {}, _who_can_change(work.session)
        )
        score = security_risk_score(checked_answers, automated)
        passed = all(check["passed"] for check in automated["checks"]) and (
            policy.risk.level(score) != "high"
        )
        row = SecurityAssessment(
            model_version_id=version_id,
            cycle=current_cycle(work.session, version_id),
            answers=checked_answers,
            automated_checks=automated,
            risk_score=score,
            passed=passed,
            note=note,
            assessed_by=actor_id,
            policy_version=policy.version,
            policy_hash=policy.content_hash,
        )
        work.session.add(row)
        bump(work, version)
        work.session.flush()
        work.record(
            actor_id=actor_id,
            action="security.assessed",
            entity_type="model_version",
            entity_id=str(version_id),
            payload={
                "security_assessment_id": row.id,
                "risk_score": score,
                "passed": passed,
                "failed_checks": [
                    check["name"]
                    for check in automated["checks"]
                    if not check["passed"]
                ],
                "failed_answers": [k for k, ok in checked_answers.items() if not ok],
            },
        )
        assessment_id = row.id
    assert assessment_id is not None
    return assessment_id


def _who_can_change(session: Session) -> list[str]:
    rows = session.exec(
        select(RoleAssignment.user_id).where(
            RoleAssignment.role.in_(CHANGING_ROLES)  # type: ignore[attr-defined]
        )
    ).all()
    return sorted(set(rows))
