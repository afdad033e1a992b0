"""Builders for workflow tests: versions, assessments, artifacts, a walk to approval."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from governance.inventory import register_version
from governance.policy import Policy
from governance.workflow import (
    SECURITY_QUESTIONS,
    advance_stage,
    complete_documentation,
    record_compliance_validation,
    record_documentation_review,
    record_internal_review,
    record_regulatory_check,
    record_security_assessment,
    verify_audit_trail,
)
from tests.store_support import store_assessment

ALL_YES = dict.fromkeys(SECURITY_QUESTIONS, True)
SECTIONS = {
    "description": "Scores inbound leads by conversion likelihood.",
    "feature_engineering": "Counts and recency of visits.",
    "training_data": "CRM leads, 2025.",
    "evaluation_methodology": "Hold-out test split by time.",
    "performance_metrics": "AUC, precision, recall at 0.5.",
    "known_limitations": "Not for leads outside the free zone.",
    "bias_assessment": "Demographic parity by region below 0.1.",
}
SPEC = {
    "target": "converted",
    "features": ["visits", "company_size", "region"],
    "sensitive_features": ["region"],
    "pii_columns": ["email"],
    "train": {"rows": 12000, "sha256": "a" * 64},
    "decision_threshold": 0.5,
    "flavors": ["python_function", "sklearn"],
    "data_source": "crm.leads",
    "params": {"n_estimators": "200", "learning_rate": "0.05"},
}


def register(
    engine, people, policy: Policy, *, version="1", name="lead-scoring", **changes
) -> int:
    """Register a version as the data scientist, with SPEC changed by ``changes``."""
    algorithm = changes.pop("algorithm", "lightgbm")
    spec = {**SPEC, **changes}
    return register_version(
        engine,
        actor_id=people["scientist"],
        policy=policy,
        name=name,
        version=version,
        model_uri=f"models:/{name}/{version}",
        owner_id=people["owner"],
        run_id=f"run-{name}-{version}",
        algorithm=algorithm,
        data_spec=spec,
    )


def add_assessment(
    engine, policy: Policy, version_id: int, *, level="high", digest="d" * 64
) -> int:
    """Store an assessment row the way the assessment job would."""
    evidence = {
        "risk": {"level": level, "score": {"low": 0.2, "medium": 0.5}.get(level, 0.8)},
        "standards": [
            {"name": "auc", "value": 0.81, "threshold": 0.75, "passed": True},
            {"name": "demographic_parity_difference", "passed": True},
        ],
        "model_artifacts": {"sha256": digest, "files": ["model.pkl"]},
        "fairness": {"features": [{"name": "region"}]},
        "explanations": {
            "standard": {"name": "explanations_available", "passed": True}
        },
    }
    return store_assessment(
        engine, policy, version_id, evidence=evidence, risk_level=level
    )


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    """A folder of model artifacts holding one benign pickle."""
    folder = tmp_path / "artifacts"
    folder.mkdir()
    (folder / "model.pkl").write_bytes(pickle.dumps({"weights": [0.1, 0.2]}))
    (folder / "MLmodel").write_text("flavors: {}\n")
    return folder


def walk_to_approval(
    engine, people, policy: Policy, version_id: int, artifacts: Path, *, level="high"
) -> None:
    """Take a registered version through development, risk and compliance."""
    complete_documentation(
        engine, actor_id=people["scientist"], version_id=version_id, sections=SECTIONS
    )
    record_internal_review(
        engine, actor_id=people["engineer"], version_id=version_id, comment="Reviewed."
    )
    advance_stage(
        engine, actor_id=people["scientist"], policy=policy, version_id=version_id
    )
    add_assessment(engine, policy, version_id, level=level)
    record_security_assessment(
        engine,
        actor_id=people["security"],
        policy=policy,
        version_id=version_id,
        artifact_dir=artifacts,
        answers=ALL_YES,
    )
    advance_stage(
        engine, actor_id=people["compliance"], policy=policy, version_id=version_id
    )
    compliance = people["compliance"]
    record_compliance_validation(
        engine, actor_id=compliance, version_id=version_id, comment="Valid."
    )
    record_documentation_review(
        engine, actor_id=compliance, version_id=version_id, comment="Complete."
    )
    verify_audit_trail(engine, actor_id=compliance, version_id=version_id)
    record_regulatory_check(
        engine,
        actor_id=compliance,
        version_id=version_id,
        regulations=["GDPR"],
        comment="Lawful basis documented.",
    )
    advance_stage(engine, actor_id=compliance, policy=policy, version_id=version_id)


REQUEST = {
    "purpose": "Score inbound leads for the sales team.",
    "changes": "First version.",
    "risk_summary": "High: security factor; see the assessment.",
    "mitigation_plan": "Weekly bias review; rollback runbook.",
}
