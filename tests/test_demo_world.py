"""The demo world end to end: people, data, models, registration (slow)."""

import hashlib
from pathlib import Path

import pytest
from sqlmodel import select

from governance.access import list_people
from governance.audit import verify_chain
from governance.bootstrap import prepare_store
from governance.demo.world import DEMO_PEOPLE, build_demo
from governance.inventory import list_inventory, list_versions
from governance.registry import Registry
from governance.store import read_session
from governance.tables import AuditEvent

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo")]


@pytest.fixture(scope="module")
def demo_engine(demo_world):
    engine, _ = prepare_store(demo_world)
    yield engine
    engine.dispose()


def test_demo_governs_two_models_with_their_people(demo_engine):
    rows = {row.name: row for row in list_inventory(demo_engine)}

    assert set(rows) == {"lead-scoring", "licence-renewal"}
    assert rows["lead-scoring"].version_count == 3
    assert rows["licence-renewal"].version_count == 2
    assert rows["lead-scoring"].owner == "Layla Haddad"
    people = {person.username: person.roles for person in list_people(demo_engine)}
    assert people == {person.username: person.roles for person in DEMO_PEOPLE}


def test_registrations_carry_data_fingerprints_and_keep_pii_out(demo_engine):
    for row in list_versions(demo_engine, "lead-scoring"):
        spec = row.data_spec
        for part in ("train", "test", "current"):
            data = Path(spec[part]["path"]).read_bytes()
            assert spec[part]["sha256"] == hashlib.sha256(data).hexdigest()
        assert {"full_name", "email", "phone"} <= set(spec["pii_columns"])
        assert not set(spec["pii_columns"]) & set(spec["features"])
        assert spec["target"] == "converted"
        assert spec["data_version"] == "14"
    v3 = list_versions(demo_engine, "lead-scoring")[0]
    assert {"nationality_region", "gender"} <= set(v3.data_spec["features"])


def test_registry_lists_the_demo_versions_without_loading_them(demo_world):
    registry = Registry(demo_world)

    assert [model.name for model in registry.models()] == [
        "lead-scoring",
        "licence-renewal",
    ]
    versions = registry.versions("lead-scoring")
    assert [version.version for version in versions] == ["3", "2", "1"]
    run = registry.run(versions[1].run_id)
    assert run.params["decision_threshold"] == versions[1].tags["decision_threshold"]
    assert 0.75 <= run.metrics["auc"] <= 1.0


def test_second_build_changes_nothing(demo_world, demo_engine):
    with read_session(demo_engine) as session:
        before = len(session.exec(select(AuditEvent)).all())

    report = build_demo(demo_world, seed=7)

    assert report.startswith("The demo world is already built")
    with read_session(demo_engine) as session:
        assert len(session.exec(select(AuditEvent)).all()) == before
    assert verify_chain(demo_engine).is_intact
