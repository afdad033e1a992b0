from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from governance.store import MIGRATIONS_DIR, _alembic_config, migrate, schema_revision
from governance.workflow import (
    complete_documentation,
    get_request,
    inbox,
    request_approval,
)
from tests.workflow.conftest import REQUEST, SECTIONS, register, walk_to_approval

WORKFLOW_TABLES = {
    "workflow_state",
    "stage_signoff",
    "security_assessment",
    "change_record",
    "approval_request",
    "approval_decision",
    "checklist_tick",
    "rollout_step",
}


def test_workflow_migration_downgrades_and_upgrades(engine):
    with engine.begin() as connection:
        command.downgrade(_alembic_config(connection), "0001")
    assert not WORKFLOW_TABLES & set(inspect(engine).get_table_names())

    migrate(engine)

    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert schema_revision(engine) == head
    assert set(inspect(engine).get_table_names()) >= WORKFLOW_TABLES


def test_inbox_lists_what_waits_for_each_person_oldest_first(
    engine, people, policy, artifacts
):
    older = register(engine, people, policy, version="1")
    newer = register(engine, people, policy, version="2")

    items = inbox(engine, policy, people["scientist"])

    assert [(i.model_version_id, i.action) for i in items] == [
        (older, "development.complete_documentation"),
        (newer, "development.complete_documentation"),
    ]
    assert inbox(engine, policy, people["engineer"]) == []

    complete_documentation(
        engine, actor_id=people["scientist"], version_id=older, sections=SECTIONS
    )
    assert [i.action for i in inbox(engine, policy, people["engineer"])] == [
        "development.internal_review"
    ]


def test_inbox_offers_a_request_to_approvers_but_not_to_the_requester(
    engine, people, policy, artifacts
):
    version_id = register(engine, people, policy)
    walk_to_approval(engine, people, policy, version_id, artifacts, level="medium")
    assert [i.action for i in inbox(engine, policy, people["scientist"])] == [
        "approval.request"
    ]
    request_id = request_approval(
        engine,
        actor_id=people["scientist"],
        policy=policy,
        version_id=version_id,
        **REQUEST,
    )

    waiting = {
        name: [(i.action, i.request_id) for i in inbox(engine, policy, people[name])]
        for name in ("owner", "compliance", "security", "scientist", "admin")
    }

    assert waiting == {
        "owner": [("approval.decide", request_id)],
        "compliance": [("approval.decide", request_id)],
        "security": [],
        "scientist": [],
        "admin": [],
    }
    assert get_request(engine, request_id).required_roles == (
        "model_owner",
        "compliance_officer",
    )
