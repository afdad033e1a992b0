"""Store rows the way the console's jobs do, for tests that need evidence in place."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from governance.access import SYSTEM_USER_ID
from governance.audit import unit_of_work
from governance.policy import Policy
from governance.tables import Assessment


def store_assessment(
    engine: Engine,
    policy: Policy,
    version_id: int,
    *,
    evidence: dict[str, Any],
    passed: bool = True,
    risk_level: str | None = None,
    artifact_dir: str | None = None,
) -> int:
    """Store an assessment of ``version_id`` with its audit event; return its id."""
    with unit_of_work(engine) as work:
        row = Assessment(
            model_version_id=version_id,
            passed=passed,
            risk_level=risk_level,
            evidence=evidence,
            artifact_dir=artifact_dir,
            created_by=SYSTEM_USER_ID,
            policy_version=policy.version,
            policy_hash=policy.content_hash,
        )
        work.session.add(row)
        work.session.flush()
        work.record(
            actor_id=SYSTEM_USER_ID,
            action="assessment.completed",
            entity_type="model_version",
            entity_id=str(version_id),
            payload={"assessment_id": row.id},
        )
        assert row.id is not None
        return row.id
