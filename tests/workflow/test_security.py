import os
import pickle

import pytest

from governance.assessment.risk import aggregate_risk
from governance.errors import InvalidInputError
from governance.store import read_session
from governance.tables import Assessment
from governance.workflow import (
    SECURITY_QUESTIONS,
    advance_stage,
    approval_risk_level,
    complete_documentation,
    record_internal_review,
    record_security_assessment,
    scan_model_artifacts,
)
from governance.workflow.security import PickleFinding, security_risk_score
from governance.workflow_tables import SecurityAssessment
from tests.workflow.conftest import ALL_YES, SECTIONS, register


class RunsACommand:
    """Pickles to a call of os.system; dumping it runs nothing."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.fixture
def malicious(tmp_path):
    folder = tmp_path / "evil"
    folder.mkdir()
    marker = tmp_path / "pwned"
    (folder / "model.pkl").write_bytes(pickle.dumps(RunsACommand(marker)))
    return folder, marker


def test_benign_pickle_is_clean(artifacts):
    scan = scan_model_artifacts(artifacts)

    assert (scan.files_scanned, scan.dangerous, scan.is_clean) == (1, (), True)


def test_pickle_calling_os_system_is_dangerous_and_never_runs(malicious):
    folder, marker = malicious

    scan = scan_model_artifacts(folder)

    assert scan.dangerous == (
        PickleFinding("model.pkl", os.system.__module__, "system", "dangerous"),
    )
    assert not scan.is_clean
    assert not marker.exists()


def test_scan_needs_a_folder(tmp_path):
    with pytest.raises(InvalidInputError, match="not a folder"):
        scan_model_artifacts(tmp_path / "missing")


def test_score_is_the_share_of_failed_answers_and_checks():
    answers = {**ALL_YES, "endpoint_authenticated": False}
    automated = {
        "artifact_scan": {"dangerous": []},
        "checks": [{"passed": True}, {"passed": False}, {"passed": True}],
    }

    assert security_risk_score(answers, automated) == pytest.approx(2 / 9)
    automated["artifact_scan"]["dangerous"] = [{"module": "posix"}]
    assert security_risk_score(answers, automated) == 1.0


@pytest.mark.parametrize(
    "answers",
    [{}, {**ALL_YES, "extra": True}, {**ALL_YES, "secrets_absent": "yes"}],
    ids=["missing", "unknown", "not-boolean"],
)
def test_questionnaire_must_be_complete(engine, people, policy, artifacts, answers):
    with pytest.raises(InvalidInputError, match="(?i)security question"):
        record_security_assessment(
            engine,
            actor_id=people["security"],
            policy=policy,
            version_id=1,
            artifact_dir=artifacts,
            answers=answers,
        )


def _to_risk_assessment(engine, people, policy):
    version_id = register(engine, people, policy, pii_columns=["region"])
    complete_documentation(
        engine, actor_id=people["scientist"], version_id=version_id, sections=SECTIONS
    )
    record_internal_review(
        engine, actor_id=people["engineer"], version_id=version_id, comment="ok"
    )
    advance_stage(
        engine, actor_id=people["scientist"], policy=policy, version_id=version_id
    )
    return version_id


def test_malicious_artifacts_and_pii_inputs_fail_the_assessment(
    engine, people, policy, malicious
):
    version_id = _to_risk_assessment(engine, people, policy)

    row_id = record_security_assessment(
        engine,
        actor_id=people["security"],
        policy=policy,
        version_id=version_id,
        artifact_dir=malicious[0],
        answers=ALL_YES,
    )

    with read_session(engine) as session:
        row = session.get(SecurityAssessment, row_id)
    failed = [c["name"] for c in row.automated_checks["checks"] if not c["passed"]]
    assert (row.passed, row.risk_score) == (False, 1.0)
    assert failed == ["artifacts_free_of_unsafe_pickle", "no_pii_in_model_inputs"]
    assert row.automated_checks["people_who_can_change"] == sorted(
        [people["scientist"], people["engineer"]]
    )


def test_security_score_replaces_the_unassessed_factor(policy):
    factors = {
        "data_quality": 0.1,
        "performance": 0.2,
        "bias": 0.3,
        "stability": 0.1,
        "security": 1.0,
    }
    assessment = Assessment(
        model_version_id=1,
        passed=True,
        risk_level="high",
        evidence={"risk": {"level": "high", "factors": factors}},
        created_by="system",
        policy_version="1",
        policy_hash="x",
    )
    security = SecurityAssessment(
        model_version_id=1,
        cycle=1,
        risk_score=0.0,
        passed=True,
        assessed_by="u",
        policy_version="1",
        policy_hash="x",
    )

    level = approval_risk_level(policy, assessment, security)

    assert level == aggregate_risk({**factors, "security": 0.0}, policy).level
    assert level == "low"
    assert set(SECURITY_QUESTIONS) == set(ALL_YES)
