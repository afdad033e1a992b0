"""The demo's incidents worked through their playbooks and the review calendar.

Lead-scoring version 2, in production, carries a performance incident worked as
far as its root cause (the "fix or roll back" step is next, for the ML engineer
to try in the browser) and a bias incident worked through every step and closed.
Two reviews are completed today (the daily performance review and this week's
drift review), so the calendar shows done, due and, from yesterday's missed
daily review, overdue tasks. Nothing is random; times are set back from now.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from governance.access import stable_user_id
from governance.operations.calendar import complete_review, period_of
from governance.operations.incidents import (
    close_incident,
    complete_step,
    find_version_id,
    report_incident,
)
from governance.policy import Policy
from governance.settings import Settings

logger = logging.getLogger(__name__)

MODEL = "lead-scoring"
PERFORMANCE_NOTES = (
    ("detect", "Precision of the top-scored leads fell in the weekly window."),
    (
        "investigate_root_cause",
        "The lead_source mix moved towards partner leads, which score high but "
        "convert less than the training data showed.",
    ),
)
BIAS_NOTES = (
    ("detect", "Selection-rate gap by nationality_region passed 0.1 in one window."),
    ("assess_impact", "Leads from one region were followed up less that month."),
    ("mitigate", "Sales reviewed the affected leads by hand for the month."),
    ("retrain_if_needed", "Not needed: the gap fell below 0.1 once volume recovered."),
    (
        "update_fairness_monitoring",
        "Fairness is now checked on weekly windows with at least 100 leads per group.",
    ),
)


def seed_incidents(settings: Settings, engine: Engine, policy: Policy) -> str:
    """Seed this part of the demo; return one sentence saying what was added."""
    del settings
    version_id = find_version_id(engine, MODEL, "2")
    now = datetime.now(UTC)

    # Version 2 reached production six days before the build (demo.history).
    bias = _bias_incident(engine, policy, version_id, now - timedelta(days=5))
    performance = _performance_incident(
        engine, policy, version_id, now - timedelta(hours=20)
    )
    _reviews(engine, policy, now)
    logger.info("Demo incidents %s and %s and two reviews seeded", bias, performance)
    return (
        f"Incidents: performance incident {performance} open at its fix step, bias "
        f"incident {bias} closed; two reviews completed, yesterday's daily review "
        "overdue."
    )


def _bias_incident(
    engine: Engine, policy: Policy, version_id: int, reported: datetime
) -> int:
    omar = stable_user_id("omar")
    incident_id = report_incident(
        engine,
        policy,
        actor_id=stable_user_id("daniel"),
        model_version_id=version_id,
        kind="bias",
        severity="medium",
        description=(
            "The selection-rate gap by nationality_region went past the 0.1 "
            "threshold in one weekly window of the canary."
        ),
        evidence_links=[f"model:{MODEL}/2"],
        now=reported,
    )
    for hours, (step, note) in enumerate(BIAS_NOTES, start=1):
        complete_step(
            engine,
            policy,
            actor_id=omar,
            incident_id=incident_id,
            step=step,
            note=note,
            now=reported + timedelta(hours=6 * hours),
        )
    close_incident(
        engine,
        policy,
        actor_id=omar,
        incident_id=incident_id,
        note="Closed after two weekly windows below the threshold.",
        now=reported + timedelta(days=3),
    )
    return incident_id


def _performance_incident(
    engine: Engine, policy: Policy, version_id: int, reported: datetime
) -> int:
    incident_id = report_incident(
        engine,
        policy,
        actor_id=stable_user_id("layla"),
        model_version_id=version_id,
        kind="performance",
        severity="high",
        description=(
            "Sales reports that many top-scored partner leads do not convert; "
            "precision looks well below the assessment's."
        ),
        evidence_links=["https://crm.example.org/reports/partner-leads"],
        now=reported,
    )
    for hours, (step, note) in enumerate(PERFORMANCE_NOTES, start=1):
        complete_step(
            engine,
            policy,
            actor_id=stable_user_id("priya"),
            incident_id=incident_id,
            step=step,
            note=note,
            now=reported + timedelta(hours=2 * hours),
        )
    return incident_id


def _reviews(engine: Engine, policy: Policy, now: datetime) -> None:
    today = now.date()
    complete_review(
        engine,
        policy,
        actor_id=stable_user_id("priya"),
        review="performance",
        scope=MODEL,
        period=period_of(policy.reviews.performance, today).label,
        notes="AUC, precision and recall of the last day read from monitoring.",
        findings="Precision below the assessment; see the open performance incident.",
        now=now,
    )
    complete_review(
        engine,
        policy,
        actor_id=stable_user_id("omar"),
        review="drift",
        scope=MODEL,
        period=period_of(policy.reviews.drift, today).label,
        notes="PSI per feature and on the scores for the week.",
        findings="lead_source is moving towards partner leads; watch its PSI.",
        now=now,
    )
