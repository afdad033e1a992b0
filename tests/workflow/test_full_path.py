import datetime as dt
import json

import pytest
from sqlmodel import select

from governance.audit import verify_chain
from governance.store import read_session
from governance.tables import AuditEvent, ModelVersion
from governance.workflow import (
    advance_rollout,
    approve_request,
    deployment_gate,
    get_request,
    inbox,
    post_deployment_checklist,
    pre_deployment_checklist,
    request_approval,
    tick_post_deployment,
)
from tests.operations.serving_support import record_passing_evidence
from tests.workflow.conftest import REQUEST, register, walk_to_approval

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


class FakeRegistry:
    """Records the aliases and tags a rollout writes, in order."""

    def __init__(self):
        self.calls = []

    def set_alias(self, name, alias, version):
        self.calls.append(("alias", name, alias, version))

    def set_tag(self, name, version, key, value):
        self.calls.append(("tag", name, version, key, value))


def _stage(engine, version_id):
    with read_session(engine) as session:
        return session.get(ModelVersion, version_id).stage


def test_high_risk_version_goes_to_production_with_three_approvers(
    engine, people, policy, artifacts, tmp_path
):
    version_id = register(engine, people, policy)
    walk_to_approval(engine, people, policy, version_id, artifacts, level="high")

    request_id = request_approval(
        engine,
        actor_id=people["scientist"],
        policy=policy,
        version_id=version_id,
        **REQUEST,
    )
    view = get_request(engine, request_id)
    assert view.required_roles == (
        "model_owner",
        "compliance_officer",
        "security_officer",
    )
    assert view.binding["artifact_digest"] == "d" * 64
    assert view.binding["policy_hash"] == policy.content_hash
    assert [item.action for item in inbox(engine, policy, people["owner"])] == [
        "approval.decide"
    ]

    statuses = []
    for name in ("owner", "compliance", "security"):
        row_version = get_request(engine, request_id).row_version
        statuses.append(
            approve_request(
                engine,
                actor_id=people[name],
                request_id=request_id,
                expected_row_version=row_version,
                comment=f"{name} agrees",
            )
        )
    assert statuses == ["pending", "pending", "approved"]
    assert _stage(engine, version_id) == "deployment"
    assert all(item.is_done for item in pre_deployment_checklist(engine, version_id))
    assert deployment_gate(engine, version_id).is_open

    registry = FakeRegistry()
    steps = [
        ("staging", None, 0),
        ("shadow", None, 0),
        ("canary", 10, 7),
        ("canary", 50, 8),
        ("canary", 100, 9),
        ("production", None, 10),
    ]
    previous = None
    for step, share, day in steps:
        if previous is not None and previous[0] in ("shadow", "canary"):
            record_passing_evidence(
                engine,
                people["engineer"],
                policy,
                version_id,
                tmp_path,
                candidate="1",
                start=START + dt.timedelta(days=previous[2]),
                end=START + dt.timedelta(days=day, minutes=-1),
                share=previous[1],
            )
        previous = (step, share, day)
        advance_rollout(
            engine,
            actor_id=people["engineer"],
            policy=policy,
            version_id=version_id,
            step=step,
            percentage=share,
            registry=registry,
            now=START + dt.timedelta(days=day),
        )
    assert _stage(engine, version_id) == "production"
    assert [call[2] for call in registry.calls if call[0] == "alias"] == [
        "staging",
        "shadow",
        "canary",
        "canary",
        "canary",
        "production",
    ]
    assert ("tag", "lead-scoring", "1", "governance.rollout_step", "canary-50") in (
        registry.calls
    )

    assert [item.is_done for item in post_deployment_checklist(engine, version_id)] == [
        False
    ] * 6
    tick_post_deployment(
        engine,
        actor_id=people["engineer"],
        version_id=version_id,
        item="monitoring_active",
        note="Dashboards live.",
    )
    ticked = post_deployment_checklist(engine, version_id)[0]
    assert (ticked.is_done, ticked.ticked_by) == (True, people["engineer"])

    assert verify_chain(engine).is_intact
    with read_session(engine) as session:
        events = session.exec(
            select(AuditEvent).where(AuditEvent.action == "approval.approved")
        ).all()
    assert sorted(event.actor_id for event in events) == sorted(
        people[name] for name in ("owner", "compliance", "security")
    )
    assert {json.loads(e.payload)["assessment_id"] for e in events} == {
        view.binding["assessment_id"]
    }


def test_request_without_mitigation_plan_is_refused_for_high_risk(
    engine, people, policy, artifacts
):
    version_id = register(engine, people, policy)
    walk_to_approval(engine, people, policy, version_id, artifacts, level="high")

    from governance.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="mitigation plan"):
        request_approval(
            engine,
            actor_id=people["scientist"],
            policy=policy,
            version_id=version_id,
            **{**REQUEST, "mitigation_plan": " "},
        )
