import pytest

from governance.audit import unit_of_work, verify_chain
from governance.errors import ConflictError, PermissionDeniedError
from governance.inventory import (
    filter_inventory,
    list_inventory,
    list_versions,
    register_version,
)
from governance.tables import Assessment, Incident


def _register(engine, people, policy, name, version, actor="scientist"):
    return register_version(
        engine,
        actor_id=people[actor],
        policy=policy,
        name=name,
        version=version,
        model_uri=f"models:/{name}/{version}",
        owner_id=people["owner"],
        description=f"{name} description",
    )


def _assess(engine, people, policy, version_id, level):
    with unit_of_work(engine) as work:
        work.session.add(
            Assessment(
                model_version_id=version_id,
                passed=level == "low",
                risk_level=level,
                risk_score={"low": 0.2, "high": 0.8}[level],
                created_by=people["engineer"],
                policy_version=policy.version,
                policy_hash=policy.content_hash,
            )
        )
        work.record(
            actor_id=people["engineer"],
            action="assessment.recorded",
            entity_type="model_version",
            entity_id=str(version_id),
        )


def test_inventory_aggregates_versions_risk_and_open_incidents(engine, people, policy):
    first = _register(engine, people, policy, "lead-scoring", "1")
    second = _register(engine, people, policy, "lead-scoring", "2")
    _register(engine, people, policy, "licence-renewal", "1", actor="engineer")
    _assess(engine, people, policy, first, "low")
    _assess(engine, people, policy, second, "high")
    with unit_of_work(engine) as work:
        for status in ("open", "closed", "investigating"):
            work.session.add(
                Incident(
                    model_version_id=first,
                    kind="bias",
                    severity="high",
                    status=status,
                    description="x",
                    reported_by=people["owner"],
                )
            )
        work.record(
            actor_id=people["owner"],
            action="incident.reported",
            entity_type="incident",
            entity_id="1",
        )

    rows = {row.name: row for row in list_inventory(engine)}

    lead = rows["lead-scoring"]
    assert (lead.version_count, lead.latest_version, lead.stage) == (
        2,
        "2",
        "development",
    )
    assert lead.risk_level == "high"
    assert lead.open_incidents == 2
    assert lead.owner == "Owner"
    renewal = rows["licence-renewal"]
    assert (renewal.version_count, renewal.risk_level, renewal.open_incidents) == (
        1,
        None,
        0,
    )
    assert [row.version for row in list_versions(engine, "lead-scoring")] == ["2", "1"]
    assert verify_chain(engine).is_intact


def test_registering_needs_a_scientist_or_engineer_and_a_new_version(
    engine, people, policy
):
    _register(engine, people, policy, "lead-scoring", "1")

    with pytest.raises(ConflictError, match="already registered"):
        _register(engine, people, policy, "lead-scoring", "1")
    with pytest.raises(PermissionDeniedError, match="Data scientist or ML engineer"):
        _register(engine, people, policy, "lead-scoring", "2", actor="compliance")
    assert [row.version for row in list_versions(engine, "lead-scoring")] == ["1"]


@pytest.mark.parametrize(
    ("text", "stages", "risks", "expected"),
    [
        ("", (), (), ["a-model", "b-model"]),
        ("B-MOD", (), (), ["b-model"]),
        ("owner", (), (), ["a-model", "b-model"]),
        ("", ("production",), (), []),
        ("", ("development",), ("unassessed",), ["b-model"]),
        ("", (), ("high",), ["a-model"]),
    ],
    ids=["all", "name-any-case", "owner", "stage-none", "unassessed", "risk"],
)
def test_filter_inventory(engine, people, policy, text, stages, risks, expected):
    version = _register(engine, people, policy, "a-model", "1")
    _register(engine, people, policy, "b-model", "1")
    _assess(engine, people, policy, version, "high")

    rows = filter_inventory(
        list_inventory(engine), text=text, stages=stages, risk_levels=risks
    )

    assert [row.name for row in rows] == expected
