"""The demo's seeded sign-off history, built into a home of its own."""

import json
from datetime import datetime, timedelta

import pytest
from fairlearn.metrics import demographic_parity_difference
from sqlmodel import select

from governance.access import stable_user_id
from governance.audit import verify_chain
from governance.bootstrap import prepare_store
from governance.demo.history import (
    PRODUCTION_DAYS_BEFORE,
    REGISTERED_DAYS_BEFORE,
    seed_history,
)
from governance.evidence import latest_evidence, load_predictions
from governance.inventory import list_versions
from governance.store import read_session
from governance.tables import AuditEvent
from governance.workflow import inbox, requests_of_version, rollout_status

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo")]


@pytest.fixture(scope="module")
def seeded(demo_world):
    """The shared demo: build_demo ends by seeding the sign-off history."""
    engine, policy = prepare_store(demo_world)
    yield demo_world, engine, policy, None
    engine.dispose()


def _versions(engine, model):
    return {row.version: row for row in list_versions(engine, model)}


def test_one_version_in_production_one_rejected_one_awaiting(seeded):
    _, engine, _, report = seeded

    leads = _versions(engine, "lead-scoring")
    renewals = _versions(engine, "licence-renewal")

    assert {v: row.stage for v, row in leads.items()} == {
        "1": "development",
        "2": "production",
        "3": "development",
    }
    assert renewals["2"].stage == "approval"
    statuses = {
        (model, version): [
            r.status for r in requests_of_version(engine, rows[version].id)
        ]
        for model, rows, version in (
            ("lead-scoring", leads, "2"),
            ("lead-scoring", leads, "3"),
            ("licence-renewal", renewals, "2"),
        )
    }
    assert statuses == {
        ("lead-scoring", "2"): ["approved"],
        ("lead-scoring", "3"): ["rejected"],
        ("licence-renewal", "2"): ["pending"],
    }


def test_rejection_names_the_disparity_fairlearn_computes(seeded):
    _, engine, _, _ = seeded
    version = _versions(engine, "lead-scoring")["3"]
    stored = latest_evidence(engine, "lead-scoring", "3")
    test = load_predictions(stored, split="test")
    y_pred = (test["y_score"] >= stored.evidence["decision_threshold"]).astype(int)

    expected = demographic_parity_difference(
        test["y_true"], y_pred, sensitive_features=test["nationality_region"]
    )
    request = requests_of_version(engine, version.id)[0]

    assert request.change_class == "major"
    assert [(d.approver_id, d.role, d.decision) for d in request.decisions] == [
        (stable_user_id("layla"), "model_owner", "rejected")
    ]
    assert f"demographic_parity_difference (nationality_region) is {expected:.3f}" in (
        request.decisions[0].comment
    )


def test_the_pending_request_waits_for_owner_and_security(seeded):
    _, engine, policy, _ = seeded
    version = _versions(engine, "licence-renewal")["2"]
    request = requests_of_version(engine, version.id)[0]

    assert [d.approver_id for d in request.decisions] == [stable_user_id("daniel")]
    assert request.open_roles == ("model_owner", "security_officer")
    decisions = [
        item.what
        for item in inbox(engine, policy, stable_user_id("sofia"))
        if item.action == "approval.decide"
    ]
    assert decisions == [f"Decide approval request {request.id} as security officer"]


def test_rollout_kept_the_shadow_minimum_and_mirrored_to_mlflow(seeded):
    settings, engine, policy, _ = seeded
    from mlflow.tracking import MlflowClient

    version = _versions(engine, "lead-scoring")["2"]
    steps = dict(rollout_status(engine, policy, version.id))
    client = MlflowClient(settings.mlflow_tracking_uri, settings.mlflow_tracking_uri)

    assert steps["canary-10"] - steps["shadow"] >= timedelta(
        days=policy.deployment.shadow_min_days
    )
    assert str(client.get_registered_model("lead-scoring").aliases["production"]) == "2"
    tags = client.get_model_version("lead-scoring", "2").tags
    assert tags["governance.rollout_step"] == "production"


def test_history_is_in_an_intact_audit_trail_by_the_right_people(seeded):
    _, engine, _, _ = seeded

    with read_session(engine) as session:
        events = session.exec(select(AuditEvent).order_by(AuditEvent.seq)).all()
    by_action = {}
    for event in events:
        by_action.setdefault(event.action, []).append(event.actor_id)

    assert verify_chain(engine).is_intact
    assert by_action["approval.requested"] == [stable_user_id("omar")] * 3
    assert by_action["security.assessed"] == [stable_user_id("sofia")] * 3
    assert set(by_action["rollout.step"]) == {stable_user_id("priya")}
    assert by_action["approval.rejected"] == [stable_user_id("layla")]
    seeded_event = next(e for e in events if e.action == "demo.history_seeded")
    payload = json.loads(seeded_event.payload)
    assert payload["stories"] == [
        "lead-scoring/2",
        "lead-scoring/3",
        "licence-renewal/2",
    ]
    dated_from = datetime.fromisoformat(payload["records_dated_from"])
    dated_to = datetime.fromisoformat(payload["records_dated_to"])
    assert seeded_event.occurred_at - dated_from > timedelta(
        days=REGISTERED_DAYS_BEFORE
    ) - timedelta(minutes=10)
    assert dated_from < dated_to < seeded_event.occurred_at
    # The trail itself is never dated back: its times follow its order.
    times = [event.occurred_at for event in events]
    assert times == sorted(times)


def test_the_records_tell_the_story_in_order_over_weeks(seeded):
    _, engine, policy, _ = seeded
    leads = _versions(engine, "lead-scoring")
    production = requests_of_version(engine, leads["2"].id)[0]
    rejected = requests_of_version(engine, leads["3"].id)[0]
    steps = dict(rollout_status(engine, policy, leads["2"].id))
    with read_session(engine) as session:
        built = session.exec(
            select(AuditEvent.occurred_at).where(
                AuditEvent.action == "demo.history_seeded"
            )
        ).one()

    assert leads["2"].registered_at < production.requested_at
    decided = production.decisions[-1].decided_at
    assert decided - production.requested_at >= timedelta(days=1)
    assert decided < steps["staging"]
    assert built - steps["production"] > timedelta(
        days=PRODUCTION_DAYS_BEFORE
    ) - timedelta(minutes=10)
    assert (
        steps["production"]
        < rejected.requested_at
        < rejected.decisions[-1].decided_at
        < built
    )
    # Every assessment judged data collected before it was made.
    stored = latest_evidence(engine, "lead-scoring", "2")
    assert datetime.fromisoformat(stored.evidence["assessed_at"]) < steps["staging"]


def test_seeding_twice_changes_nothing(seeded):
    settings, engine, policy, _ = seeded
    with read_session(engine) as session:
        before = len(session.exec(select(AuditEvent.seq)).all())

    report = seed_history(settings, engine, policy)

    with read_session(engine) as session:
        after = len(session.exec(select(AuditEvent.seq)).all())
    assert report == "The demo's sign-off history is already seeded; nothing changed."
    assert after == before
