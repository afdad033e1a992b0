import datetime as dt

import pytest

from governance.errors import ConflictError, InvalidInputError
from governance.store import read_session
from governance.tables import ModelVersion
from governance.workflow import (
    WorkflowBlockedError,
    advance_rollout,
    approve_request,
    deployment_gate,
    get_request,
    record_change_class,
    request_approval,
    rollback,
    rollout_plan,
)
from tests.operations.serving_support import record_passing_evidence
from tests.workflow.conftest import REQUEST, SPEC, register, walk_to_approval
from tests.workflow.test_full_path import FakeRegistry

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
PLAN = [
    ("staging", None),
    ("shadow", None),
    ("canary", 10),
    ("canary", 50),
    ("canary", 100),
    ("production", None),
]


def approve_version(engine, people, policy, artifacts, *, version="1", **changes):
    """Register, walk and approve a version; return its id."""
    version_id = register(engine, people, policy, version=version, **changes)
    if version != "1":
        record_change_class(engine, actor_id=people["scientist"], version_id=version_id)
    walk_to_approval(engine, people, policy, version_id, artifacts, level="medium")
    request_id = request_approval(
        engine,
        actor_id=people["scientist"],
        policy=policy,
        version_id=version_id,
        **REQUEST,
    )
    for name in ("owner", "compliance", "security", "engineer"):
        view = get_request(engine, request_id)
        if view.status != "pending":
            break
        role = {
            "owner": "model_owner",
            "compliance": "compliance_officer",
            "security": "security_officer",
            "engineer": "ml_engineer",
        }[name]
        if role in view.open_roles:
            approve_request(
                engine,
                actor_id=people[name],
                request_id=request_id,
                expected_row_version=view.row_version,
            )
    return version_id


def step(engine, people, policy, version_id, name, share=None, day=0, registry=None):
    return advance_rollout(
        engine,
        actor_id=people["engineer"],
        policy=policy,
        version_id=version_id,
        step=name,
        percentage=share,
        now=START + dt.timedelta(days=day),
        registry=registry,
    )


def roll_out(engine, people, policy, version_id, folder, *, first_day, gap, **kw):
    """Take every step ``gap`` days apart; evidence passes before each is left."""
    previous = None
    for index, (name, share) in enumerate(PLAN):
        day = first_day + index * gap
        if previous is not None and previous[0] in ("shadow", "canary"):
            record_passing_evidence(
                engine,
                people["engineer"],
                policy,
                version_id,
                folder,
                candidate=kw.get("version", "1"),
                start=START + dt.timedelta(days=day - gap),
                end=START + dt.timedelta(days=day, minutes=-1),
                share=previous[1],
                baseline=kw.get("baseline"),
            )
        step(
            engine,
            people,
            policy,
            version_id,
            name,
            share,
            day=day,
            registry=kw.get("registry"),
        )
        previous = (name, share)


def _stage(engine, version_id):
    with read_session(engine) as session:
        return session.get(ModelVersion, version_id).stage


def test_plan_follows_the_policy(policy):
    assert [(t.step, t.percentage) for t in rollout_plan(policy)] == PLAN


def test_no_canary_before_the_shadow_minimum(engine, people, policy, artifacts):
    version_id = approve_version(engine, people, policy, artifacts)
    step(engine, people, policy, version_id, "staging")
    step(engine, people, policy, version_id, "shadow", day=1)
    minimum = policy.deployment.shadow_min_days
    record_passing_evidence(
        engine,
        people["engineer"],
        policy,
        version_id,
        artifacts.parent,
        candidate="1",
        start=START + dt.timedelta(days=1),
        end=START + dt.timedelta(days=minimum, hours=-1),
    )

    with pytest.raises(WorkflowBlockedError, match="at least 7 days"):
        step(engine, people, policy, version_id, "canary", 10, day=minimum)

    step(engine, people, policy, version_id, "canary", 10, day=1 + minimum)


@pytest.mark.parametrize(
    ("first", "share"),
    [("shadow", None), ("canary", 10), ("production", None)],
    ids=["shadow", "canary", "production"],
)
def test_steps_cannot_be_skipped(engine, people, policy, artifacts, first, share):
    version_id = approve_version(engine, people, policy, artifacts)

    with pytest.raises(WorkflowBlockedError, match="next rollout step is staging"):
        step(engine, people, policy, version_id, first, share)


def test_a_double_click_takes_a_step_once(engine, people, policy, artifacts):
    version_id = approve_version(engine, people, policy, artifacts)
    step(engine, people, policy, version_id, "staging")

    with pytest.raises(WorkflowBlockedError, match="next rollout step is shadow"):
        step(engine, people, policy, version_id, "staging")


def test_unknown_step_is_refused(engine, people, policy, artifacts):
    with pytest.raises(InvalidInputError, match="canary-20"):
        step(engine, people, policy, 1, "canary", 20)


def test_rollback_restores_the_previous_production_version(
    engine, people, policy, artifacts
):
    registry = FakeRegistry()
    first = approve_version(engine, people, policy, artifacts)
    roll_out(engine, people, policy, first, artifacts.parent, first_day=0, gap=7)
    second = approve_version(
        engine,
        people,
        policy,
        artifacts,
        version="2",
        params={**SPEC["params"], "n_estimators": "400"},
    )
    roll_out(
        engine,
        people,
        policy,
        second,
        artifacts.parent,
        first_day=60,
        gap=7,
        version="2",
        baseline="1",
        registry=registry,
    )
    assert (_stage(engine, first), _stage(engine, second)) == ("retired", "production")
    with read_session(engine) as session:
        row_version = session.get(ModelVersion, second).row_version

    restored = rollback(
        engine,
        actor_id=people["engineer"],
        model_name="lead-scoring",
        reason="AUC dropped in production.",
        expected_row_version=row_version,
        registry=registry,
    )

    assert restored == first
    assert (_stage(engine, first), _stage(engine, second)) == ("production", "retired")
    assert registry.calls[-3:] == [
        ("alias", "lead-scoring", "production", "1"),
        ("tag", "lead-scoring", "2", "governance.stage", "rolled_back"),
        ("tag", "lead-scoring", "1", "governance.stage", "production"),
    ]
    with pytest.raises(ConflictError, match="reload"):
        rollback(
            engine,
            actor_id=people["engineer"],
            model_name="lead-scoring",
            reason="again",
            expected_row_version=row_version,
        )


def test_critical_change_after_approval_makes_it_stale(
    engine, people, policy, artifacts
):
    version_id = approve_version(engine, people, policy, artifacts)
    assert deployment_gate(engine, version_id).is_open

    record_change_class(engine, actor_id=people["scientist"], version_id=version_id)

    assert any(
        "a critical change was recorded" in reason
        for reason in deployment_gate(engine, version_id).blockers
    )


@pytest.mark.slow
def test_steps_are_mirrored_to_a_real_mlflow_registry(tmp_path):
    import mlflow
    from mlflow.tracking import MlflowClient

    from governance.workflow import MlflowRegistryWriter

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.create_registered_model("lead-scoring")
    mlflow.set_tracking_uri(uri)
    client.create_model_version("lead-scoring", source=str(tmp_path), run_id=None)
    writer = MlflowRegistryWriter(uri)

    writer.set_alias("lead-scoring", "canary", "1")
    writer.set_tag("lead-scoring", "1", "governance.rollout_step", "canary-10")

    version = client.get_model_version_by_alias("lead-scoring", "canary")
    assert str(version.version) == "1"
    assert version.tags["governance.rollout_step"] == "canary-10"
