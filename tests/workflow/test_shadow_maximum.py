"""A version left in shadow past ``deployment.shadow_max_days`` stands out.

The flag asks the ML engineers to decide (promote or roll back); promotion is not
refused for it. A shadow of exactly the maximum is still within the framework's
"1-2 weeks"; one moment past it is flagged.
"""

import datetime as dt

import pytest

from governance.workflow import advance_rollout, inbox
from governance.workflow.rollout import shadow_overstay, shadow_overstay_of
from governance.workflow_tables import RolloutStep
from tests.app_support import DEMO_IDS, open_page
from tests.operations.serving_support import record_passing_evidence
from tests.workflow.test_rollout import approve_version

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
DECIDE = "decide: promote or roll back"


def _taken(*steps):
    return [
        RolloutStep(
            model_version_id=1,
            model_name="lead-scoring",
            step=name,
            performed_by="u",
            performed_at=START + dt.timedelta(days=day),
        )
        for name, day in steps
    ]


@pytest.mark.parametrize(
    ("elapsed", "is_flagged"),
    [
        (dt.timedelta(days=14), False),
        (dt.timedelta(days=14, microseconds=1), True),
        (dt.timedelta(days=13, hours=23), False),
        (dt.timedelta(days=15), True),
    ],
    ids=["at-the-maximum", "just-past", "a-day-before", "a-day-past"],
)
def test_shadow_is_flagged_only_past_the_maximum(policy, elapsed, is_flagged):
    taken = _taken(("staging", -1), ("shadow", 0))
    assert policy.deployment.shadow_max_days == 14

    overstay = shadow_overstay(policy, taken, START + elapsed)

    assert (overstay is not None) == is_flagged
    if is_flagged:
        assert overstay.since == START
        assert overstay.describe() == (
            f"In shadow since 2026-03-02 09:00 UTC ({elapsed.days} days "
            f"{elapsed.seconds // 3600} hours), past the policy's 14 days "
            f"(deployment.shadow_max_days): {DECIDE}."
        )


@pytest.mark.parametrize(
    "steps",
    [(), (("staging", 0),), (("staging", 0), ("shadow", 1), ("canary", 9))],
    ids=["none", "staging", "canary"],
)
def test_only_a_version_whose_last_step_is_shadow_is_flagged(policy, steps):
    assert (
        shadow_overstay(policy, _taken(*steps), START + dt.timedelta(days=90)) is None
    )


def _in_shadow_since(engine, people, policy, artifacts, since):
    version_id = approve_version(engine, people, policy, artifacts)
    for name, moment in (("staging", since - dt.timedelta(days=1)), ("shadow", since)):
        advance_rollout(
            engine,
            actor_id=people["engineer"],
            policy=policy,
            version_id=version_id,
            step=name,
            now=moment,
        )
    return version_id


def _shadow_items(engine, policy, user_id):
    return [item for item in inbox(engine, policy, user_id) if DECIDE in item.what]


def test_the_ml_engineer_is_asked_to_decide_past_the_maximum(
    engine, people, policy, artifacts
):
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=15)
    version_id = _in_shadow_since(engine, people, policy, artifacts, since)

    (item,) = _shadow_items(engine, policy, people["engineer"])

    assert (item.action, item.model_version_id) == ("rollout.step", version_id)
    assert item.waiting_since == since
    assert item.what.startswith(f"In shadow since {since:%Y-%m-%d %H:%M} UTC (15 days")
    assert _shadow_items(engine, policy, people["owner"]) == []


def test_nothing_is_asked_within_the_maximum(engine, people, policy, artifacts):
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=13, hours=23)
    _in_shadow_since(engine, people, policy, artifacts, since)

    assert _shadow_items(engine, policy, people["engineer"]) == []


def test_promotion_past_the_maximum_is_allowed_and_clears_the_flag(
    engine, people, policy, artifacts
):
    now = dt.datetime.now(dt.UTC)
    since = now - dt.timedelta(days=20)
    version_id = _in_shadow_since(engine, people, policy, artifacts, since)
    assert shadow_overstay_of(engine, policy, version_id) is not None
    record_passing_evidence(
        engine,
        people["engineer"],
        policy,
        version_id,
        artifacts.parent,
        candidate="1",
        start=since,
        end=now - dt.timedelta(hours=1),
    )

    advance_rollout(
        engine,
        actor_id=people["engineer"],
        policy=policy,
        version_id=version_id,
        step="canary",
        percentage=10,
        now=now,
    )

    assert shadow_overstay_of(engine, policy, version_id) is None
    assert _shadow_items(engine, policy, people["engineer"]) == []


def test_the_deployment_page_warns_past_the_maximum(app_store, artifacts):
    engine, policy = app_store
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=16)
    _in_shadow_since(engine, DEMO_IDS, policy, artifacts, since)

    app = open_page("priya", "views/deployment.py")

    warnings = [item.value for item in app.warning]
    assert any(DECIDE in text and "(16 days" in text for text in warnings), warnings


def test_the_deployment_page_does_not_warn_within_the_maximum(app_store, artifacts):
    engine, policy = app_store
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    _in_shadow_since(engine, DEMO_IDS, policy, artifacts, since)

    app = open_page("priya", "views/deployment.py")

    assert not any(DECIDE in item.value for item in app.warning)
