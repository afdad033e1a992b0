"""The demo's sign-off history, made by the demo people through the workflow.

After ``build_demo`` has registered the models, ``seed_history`` leaves:

- lead-scoring version 2 in production: documented, reviewed, assessed, security
  assessed, checked for compliance, approved by the model owner, the compliance
  officer and the security officer, and rolled out step by step, each shadow
  and canary step left on passing evidence from the serving platform's
  prediction log (``governance.demo.serving``);
- lead-scoring version 3 rejected: a major change against version 2 (it adds
  nationality_region and gender as inputs), which the model owner rejected for
  its nationality_region disparity;
- licence-renewal version 2 awaiting approval: the compliance officer approved,
  the model owner and the security officer have yet to decide.

Lead-scoring version 1 stays in development: its precision and recall miss the
policy's minimums, so the deployment gate would refuse it.

Every step goes through the same domain functions the pages call, acting as the
person whose role the framework gives it, so the audit trail reads as a real
history. The records are dated over the four weeks before the build
(`DemoClock`): version 2 is requested 24 days before it and decided in two days,
its rollout ends in production six days before it (the shadow step lasting the
policy's minimum), and versions 3 and licence-renewal 2 are requested in the
last four days. The audit events keep the time they were written, and the
``demo.history_seeded`` event records the span the records were dated over.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import select

from governance.access import SYSTEM_USER_ID, stable_user_id
from governance.audit import unit_of_work
from governance.demo._clock import DemoClock
from governance.policy import Policy
from governance.settings import Settings
from governance.signoff import assess_security, registry_writer
from governance.store import read_session
from governance.tables import AuditEvent, ModelVersion, records_dated
from governance.workflow import (
    SECURITY_QUESTIONS,
    RolloutTarget,
    advance_rollout,
    advance_stage,
    approve_request,
    complete_documentation,
    get_request,
    record_change_class,
    record_compliance_validation,
    record_documentation_review,
    record_internal_review,
    record_regulatory_check,
    reject_request,
    request_approval,
    rollout_plan,
    tick_post_deployment,
    verify_audit_trail,
)

logger = logging.getLogger(__name__)

HISTORY_SEEDED_ACTION = "demo.history_seeded"
APPROVER_OF_ROLE = {
    "model_owner": "layla",
    "compliance_officer": "daniel",
    "security_officer": "sofia",
    "ml_engineer": "priya",
}
# Days before the build: when the demo's versions are registered, when each
# story's documentation starts, and when lead-scoring 2 reaches production.
REGISTERED_DAYS_BEFORE = 27.0
PRODUCTION_DAYS_BEFORE = 6.0


@dataclass(frozen=True)
class _Story:
    """What the documentation and the request of one version say, and when.

    ``started`` is the day (before the build) its documentation is completed;
    the walk to the request takes two days and the decisions follow within two.
    """

    model: str
    version: str
    purpose: str
    changes: str
    limitations: str
    started: float


LEAD_V2 = _Story(
    "lead-scoring",
    "2",
    "Rank business-setup enquiries so the sales team calls the likeliest "
    "conversions first.",
    "First version to production: gradient boosting on the legitimate lead "
    "features; no sensitive feature or PII is an input.",
    "Trained on enquiries of the last twelve months; current data drifts on "
    "budget and engagement, so the monthly review watches the PSI.",
    started=26.0,
)
LEAD_V3 = _Story(
    "lead-scoring",
    "3",
    "Raise conversion precision over version 2.",
    "Adds nationality_region and gender as inputs to the gradient boosting model.",
    "Uses sensitive features as inputs; its disparity must be assessed.",
    started=5.5,
)
RENEWAL_V2 = _Story(
    "licence-renewal",
    "2",
    "Tell account managers which licensed companies may not renew, early enough "
    "to contact them.",
    "First version to production: gradient boosting on licence usage and "
    "payment history.",
    "Companies licensed less than a year have little history; scores for them "
    "are less reliable.",
    started=4.8,
)


def seed_history(
    settings: Settings, engine: Engine, policy: Policy, clock: DemoClock | None = None
) -> str:
    """Take the demo's versions through the workflow; once per store.

    Parameters
    ----------
    settings, engine, policy
        The demo's store, built by ``build_demo``.
    clock
        The clock the build dated its registrations with; a new one otherwise.

    Returns
    -------
    str
        A short report for a person, with the time it took.
    """
    if _already_seeded(engine):
        return "The demo's sign-off history is already seeded; nothing changed."
    started = time.perf_counter()
    ids = {name: stable_user_id(name) for name in (*APPROVER_OF_ROLE.values(), "omar")}
    clock = clock or DemoClock()

    with records_dated(clock):
        production_id = _walk_to_approval(settings, engine, policy, ids, LEAD_V2, clock)
        _request(engine, policy, ids, production_id, LEAD_V2, clock)
        _approve_all(engine, ids, production_id, LEAD_V2, clock)
        _roll_out(settings, engine, policy, ids, production_id, clock)

        rejected_id = _walk_to_approval(settings, engine, policy, ids, LEAD_V3, clock)
        request_id = _request(engine, policy, ids, rejected_id, LEAD_V3, clock)
        clock.at(LEAD_V3.started - 3.5)
        _reject_for_disparity(engine, ids, request_id)

        pending_id = _walk_to_approval(settings, engine, policy, ids, RENEWAL_V2, clock)
        request_id = _request(engine, policy, ids, pending_id, RENEWAL_V2, clock)
        clock.at(RENEWAL_V2.started - 3.3)
        _approve_as(engine, ids, request_id, "compliance_officer")

    _record_seeded(engine, clock)
    took = time.perf_counter() - started
    logger.info("Demo sign-off history seeded in %.1f s", took)
    return (
        f"Sign-off history seeded in {took:.1f} s: lead-scoring 2 in production, "
        "lead-scoring 3 rejected, licence-renewal 2 awaiting approval."
    )


def _already_seeded(engine: Engine) -> bool:
    with read_session(engine) as session:
        found = session.exec(
            select(AuditEvent.seq)
            .where(AuditEvent.action == HISTORY_SEEDED_ACTION)
            .limit(1)
        ).first()
    return found is not None


def _record_seeded(engine: Engine, clock: DemoClock) -> None:
    with unit_of_work(engine) as work:
        work.record(
            actor_id=SYSTEM_USER_ID,
            action=HISTORY_SEEDED_ACTION,
            entity_type="demo",
            entity_id="demo",
            payload={
                "stories": ["lead-scoring/2", "lead-scoring/3", "licence-renewal/2"],
                "records_dated_from": (clock.first or clock.build).isoformat(),
                "records_dated_to": clock().isoformat(),
            },
        )


def _version_id(engine: Engine, model: str, version: str) -> int:
    with read_session(engine) as session:
        row = session.exec(
            select(ModelVersion).where(
                ModelVersion.model_name == model, ModelVersion.version == version
            )
        ).one()
    assert row.id is not None
    return row.id


def _walk_to_approval(
    settings: Settings,
    engine: Engine,
    policy: Policy,
    ids: dict[str, str],
    story: _Story,
    clock: DemoClock,
) -> int:
    """Development, risk assessment and compliance check, each by its role."""
    from governance.assessment.runner import assess_version

    version_id = _version_id(engine, story.model, story.version)
    clock.at(story.started)
    complete_documentation(
        engine,
        actor_id=ids["omar"],
        version_id=version_id,
        sections=_documentation(story),
    )
    clock.at(story.started - 0.2)
    record_internal_review(
        engine,
        actor_id=ids["priya"],
        version_id=version_id,
        comment="Pipeline, splits and threshold choice reviewed; reproducible from the run.",
    )
    advance_stage(engine, actor_id=ids["omar"], policy=policy, version_id=version_id)

    clock.at(story.started - 0.5)
    started = time.perf_counter()
    assess_version(
        settings,
        engine,
        policy,
        model=story.model,
        version=story.version,
        actor_id=ids["omar"],
    )
    clock.at(story.started - 1.0)
    assess_security(
        settings,
        engine,
        policy,
        actor_id=ids["sofia"],
        version_id=version_id,
        answers=dict.fromkeys(SECURITY_QUESTIONS, True),
        note="Artifacts scanned; endpoint behind the gateway's authentication.",
    )
    logger.info(
        "%s %s assessed in %.1f s",
        story.model,
        story.version,
        time.perf_counter() - started,
    )
    advance_stage(engine, actor_id=ids["daniel"], policy=policy, version_id=version_id)

    clock.at(story.started - 1.5)
    _compliance_check(engine, ids["daniel"], version_id)
    advance_stage(engine, actor_id=ids["daniel"], policy=policy, version_id=version_id)
    return version_id


def _documentation(story: _Story) -> dict[str, str]:
    return {
        "description": story.purpose,
        "feature_engineering": story.changes,
        "training_data": "Monthly snapshots of the CRM, registered with their SHA-256.",
        "evaluation_methodology": "Held-out test split; current window for drift.",
        "performance_metrics": "AUC, precision and recall at the decision threshold.",
        "known_limitations": story.limitations,
        "bias_assessment": "Demographic parity by gender, nationality region and age.",
    }


def _compliance_check(engine: Engine, officer: str, version_id: int) -> None:
    record_compliance_validation(
        engine,
        actor_id=officer,
        version_id=version_id,
        comment="Purpose and lawful basis documented; evidence complete.",
    )
    record_documentation_review(
        engine,
        actor_id=officer,
        version_id=version_id,
        comment="Documentation covers every required section.",
    )
    verify_audit_trail(engine, actor_id=officer, version_id=version_id)
    record_regulatory_check(
        engine,
        actor_id=officer,
        version_id=version_id,
        regulations=["GDPR"],
        comment="No PII is a model input; retention follows the policy.",
    )


def _request(
    engine: Engine,
    policy: Policy,
    ids: dict[str, str],
    version_id: int,
    story: _Story,
    clock: DemoClock,
) -> int:
    clock.at(story.started - 2.0)
    record_change_class(engine, actor_id=ids["omar"], version_id=version_id)
    return request_approval(
        engine,
        actor_id=ids["omar"],
        policy=policy,
        version_id=version_id,
        purpose=story.purpose,
        changes=story.changes,
        risk_summary="See the bound assessment: its risk level, drivers and standards.",
        mitigation_plan=(
            "Weekly PSI and disparity review for the first quarter; the ML engineer "
            "rolls back to the previous version on any breach."
        ),
    )


def _approve_all(
    engine: Engine,
    ids: dict[str, str],
    version_id: int,
    story: _Story,
    clock: DemoClock,
) -> None:
    """Each required approver decides, the first a day after the request."""
    from governance.workflow import requests_of_version

    request = requests_of_version(engine, version_id)[0]
    for index, role in enumerate(request.required_roles):
        clock.at(story.started - 3.0 - 0.5 * index)
        _approve_as(engine, ids, request.id, role)


def _approve_as(
    engine: Engine, ids: dict[str, str], request_id: int, role: str
) -> None:
    view = get_request(engine, request_id)
    approve_request(
        engine,
        actor_id=ids[APPROVER_OF_ROLE[role]],
        request_id=request_id,
        expected_row_version=view.row_version,
        comment="Evidence reviewed against the policy; approved.",
        as_role=role,
    )


def _reject_for_disparity(engine: Engine, ids: dict[str, str], request_id: int) -> None:
    from governance.signoff import evidence_snapshot

    view = get_request(engine, request_id)
    failed = evidence_snapshot(engine, view).failed_standards
    named = next((row for row in failed if "(nationality_region)" in row.name), None)
    reason = (
        f"{named.name} is {named.value}, above the policy maximum {named.threshold}."
        if named
        else "The disparity across nationality regions is above the policy maximum."
    )
    reject_request(
        engine,
        actor_id=ids["layla"],
        request_id=request_id,
        expected_row_version=view.row_version,
        comment=f"Rejected: {reason} Do not use sensitive features as inputs.",
        as_role="model_owner",
    )


def _roll_out(
    settings: Settings,
    engine: Engine,
    policy: Policy,
    ids: dict[str, str],
    version_id: int,
    clock: DemoClock,
) -> None:
    from governance.demo.serving import (
        generate_rollout_log,
        rollout_log_path,
        rollout_windows,
        write_rollout_log,
    )
    from governance.operations.serving import (
        compute_serving_evidence,
        decision_thresholds,
    )

    registry = registry_writer(settings)
    plan = rollout_plan(policy)
    moments = _rollout_moments(policy, plan, clock.build)
    # The serving platform's log of the rollout: version 1, the team's earlier
    # scorer, serves production beside version 2 (see governance.demo.serving).
    log = write_rollout_log(
        generate_rollout_log(
            candidate="2",
            baseline="1",
            thresholds=decision_thresholds(engine, "lead-scoring"),
            windows=rollout_windows(moments, requests_per_day=2400),
            seed=11,
            outcomes_before=moments[-1][2] - timedelta(hours=12),
        ),
        rollout_log_path(settings, "lead-scoring", "2"),
    )
    previous = None
    for target, (_, _, moment) in zip(plan, moments, strict=True):
        clock.to(moment - timedelta(minutes=5))
        if previous in ("shadow", "canary"):
            compute_serving_evidence(
                engine,
                actor_id=ids["priya"],
                policy=policy,
                version_id=version_id,
                log_reference=str(log),
                baseline_version="1" if previous == "shadow" else None,
                now=moment - timedelta(minutes=5),
            )
        clock.to(moment)
        advance_rollout(
            engine,
            actor_id=ids["priya"],
            policy=policy,
            version_id=version_id,
            step=target.step,
            percentage=target.percentage,
            registry=registry,
            now=moment,
            note=f"{target.label} healthy; moving on.",
        )
        previous = target.step
    clock.at(PRODUCTION_DAYS_BEFORE - 0.1)
    for item, who in (
        ("monitoring_active", "priya"),
        ("alerts_configured", "priya"),
        ("performance_baseline", "omar"),
    ):
        tick_post_deployment(
            engine, actor_id=ids[who], version_id=version_id, item=item, note="Done."
        )


def _rollout_moments(
    policy: Policy, plan: tuple[RolloutTarget, ...], build: datetime
) -> list[tuple[str, int | None, datetime]]:
    """When each step is taken: a day apart, the policy's minimum after shadow.

    The last step, production, is taken `PRODUCTION_DAYS_BEFORE` the build.
    """
    shadow_days = policy.deployment.shadow_min_days
    moment = build - timedelta(
        days=PRODUCTION_DAYS_BEFORE + shadow_days + len(plan) - 1
    )
    moments = []
    previous = None
    for target in plan:
        moment += timedelta(days=shadow_days if previous == "shadow" else 1)
        moments.append((target.step, target.percentage, moment))
        previous = target.step
    return moments
