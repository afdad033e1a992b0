"""Store rows the way the console's jobs do, for tests that need evidence in place."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event

from governance.access import SYSTEM_USER_ID
from governance.audit import unit_of_work
from governance.policy import Policy
from governance.store import create_store_engine
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


def engine_in_time_zone(url: str, zone: str) -> Engine:
    """A PostgreSQL engine whose every connection runs in session time zone ``zone``.

    The SET is committed at once: left in the connection's first transaction,
    the pool's rollback on return would undo it.
    """

    def set_zone(connection: Any, _record: Any) -> None:
        connection.execute(f"SET TIME ZONE '{zone}'")
        connection.commit()

    shifted = create_store_engine(url)
    event.listen(shifted, "connect", set_zone)
    return shifted
