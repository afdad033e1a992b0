"""Every role against every action, through the domain functions."""

from datetime import date
from pathlib import Path

import pytest

from governance.access import (
    ROLES,
    SYSTEM_USER_ID,
    add_user,
    grant_role,
    stable_user_id,
)
from governance.audit import unit_of_work
from governance.bootstrap import prepare_store
from governance.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from governance.operations.incidents import report_incident
from governance.operations.monitoring import run_monitoring, set_log_location
from governance.operations.retraining import decline_request, link_version
from governance.operations.serving import compute_serving_evidence
from governance.records.documents import generate_document
from governance.records.reports import generate_report
from governance.records.retention import place_hold, purge, release_hold, retire_model
from governance.settings import load_settings
from governance.store import write_session
from governance.tables import ModelVersion
from governance.workflow import (
    PERMISSIONS,
    SECURITY_QUESTIONS,
    WorkflowBlockedError,
    advance_rollout,
    advance_stage,
    approve_request,
    complete_documentation,
    record_change_class,
    record_compliance_validation,
    record_documentation_review,
    record_internal_review,
    record_regulatory_check,
    record_security_assessment,
    reject_request,
    request_approval,
    resubmit_request,
    retire_version,
    rollback,
    tick_post_deployment,
    verify_audit_trail,
    withdraw_request,
    withdraw_version,
)
from tests.workflow.conftest import REQUEST, SECTIONS, register

NO_REQUEST = 999_999


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One SQLite store for the matrix: a user per role, versions in each stage."""
    home = tmp_path_factory.mktemp("permissions")
    engine, policy = prepare_store(load_settings({"GOVERNANCE_HOME": str(home)}))
    people = {}
    with unit_of_work(engine) as work:
        for role in ROLES:
            people[role] = add_user(
                work,
                actor_id=SYSTEM_USER_ID,
                username=role,
                display_name=role,
                email=None,
                roles=(role,),
                user_id=stable_user_id(role),
            ).id
    short = {"scientist": people["data_scientist"], "owner": people["model_owner"]}
    versions = {}
    for index, stage in enumerate(
        ("development", "risk_assessment", "compliance_check")
    ):
        version_id = register(engine, short, policy, version=str(index + 1))
        with write_session(engine) as session:
            session.get(ModelVersion, version_id).stage = stage
        versions[stage] = version_id
    artifacts = home / "artifacts"
    artifacts.mkdir()
    yield engine, policy, people, versions, artifacts
    engine.dispose()


def _calls(policy, versions, artifacts: Path):
    settings = load_settings({"GOVERNANCE_HOME": str(artifacts.parent)})
    dev, risk, comp = (
        versions[s] for s in ("development", "risk_assessment", "compliance_check")
    )
    request = {"request_id": NO_REQUEST}
    calls = {
        "development.complete_documentation": lambda e, a: complete_documentation(
            e, actor_id=a, version_id=risk, sections=SECTIONS
        ),
        "development.internal_review": lambda e, a: record_internal_review(
            e, actor_id=a, version_id=risk, comment="ok"
        ),
        "stage.submit_for_risk_assessment": lambda e, a: advance_stage(
            e, actor_id=a, policy=policy, version_id=dev
        ),
        "risk.security_assessment": lambda e, a: record_security_assessment(
            e,
            actor_id=a,
            policy=policy,
            version_id=dev,
            artifact_dir=artifacts,
            answers=dict.fromkeys(SECURITY_QUESTIONS, True),
        ),
        "stage.submit_for_compliance_check": lambda e, a: advance_stage(
            e, actor_id=a, policy=policy, version_id=risk
        ),
        "compliance.validation": lambda e, a: record_compliance_validation(
            e, actor_id=a, version_id=dev, comment="ok"
        ),
        "compliance.documentation_review": lambda e, a: record_documentation_review(
            e, actor_id=a, version_id=dev, comment="ok"
        ),
        "compliance.audit_trail_verification": lambda e, a: verify_audit_trail(
            e, actor_id=a, version_id=dev
        ),
        "compliance.regulatory_check": lambda e, a: record_regulatory_check(
            e, actor_id=a, version_id=dev, regulations=["GDPR"], comment="ok"
        ),
        "stage.submit_for_approval": lambda e, a: advance_stage(
            e, actor_id=a, policy=policy, version_id=comp
        ),
        "approval.request": lambda e, a: request_approval(
            e, actor_id=a, policy=policy, version_id=dev, **REQUEST
        ),
        "approval.withdraw": lambda e, a: withdraw_request(
            e, actor_id=a, reason="no", **request
        ),
        "approval.resubmit": lambda e, a: resubmit_request(
            e, actor_id=a, policy=policy, **request
        ),
        "approval.approve": lambda e, a: approve_request(
            e, actor_id=a, expected_row_version=1, **request
        ),
        "approval.reject": lambda e, a: reject_request(
            e, actor_id=a, expected_row_version=1, comment="no", **request
        ),
        "change.classify": lambda e, a: record_change_class(
            e, actor_id=a, version_id=NO_REQUEST
        ),
        "rollout.step": lambda e, a: advance_rollout(
            e, actor_id=a, policy=policy, version_id=dev, step="staging"
        ),
        "rollout.rollback": lambda e, a: rollback(
            e, actor_id=a, model_name="lead-scoring", reason="incident"
        ),
        "serving.evidence": lambda e, a: compute_serving_evidence(
            e, actor_id=a, policy=policy, version_id=dev, log_reference="log.csv"
        ),
        # Past the check: a period that has not begun, a version that does not
        # exist (settings are not reached).
        "report.generate": lambda e, a: generate_report(
            None, e, policy, actor_id=a, kind="monthly_compliance", period="2999-01"
        ),
        "report.document": lambda e, a: generate_document(
            None,
            e,
            policy,
            actor_id=a,
            model="lead-scoring",
            version="404",
            kind="approval_record",
        ),
        "incident.report": lambda e, a: report_incident(
            e,
            policy,
            actor_id=a,
            model_version_id=NO_REQUEST,
            kind="performance",
            severity="high",
            description="AUC fell",
        ),
        "monitoring.configure_log": lambda e, a: set_log_location(
            e, actor_id=a, model_name="nope", location="x.csv"
        ),
        "monitoring.run": lambda e, a: run_monitoring(
            settings, e, policy, actor_id=a, model="nope"
        ),
        "retraining.link_version": lambda e, a: link_version(
            e, actor_id=a, request_id=NO_REQUEST, version_id=NO_REQUEST
        ),
        "retraining.decline": lambda e, a: decline_request(
            e, actor_id=a, request_id=NO_REQUEST, reason="no"
        ),
        "model.retire": lambda e, a: retire_model(
            settings, e, policy, actor_id=a, model_name="nope", reason="no"
        ),
        "retention.hold": lambda e, a: place_hold(
            e, actor_id=a, subject_type="model", subject_id="nope", reason="no"
        ),
        "retention.release": lambda e, a: release_hold(
            e, actor_id=a, hold_id=NO_REQUEST, reason="no"
        ),
        # Past the check: a purge dated after today is refused.
        "retention.purge": lambda e, a: purge(
            settings, e, policy, actor_id=a, as_of=date(2999, 1, 1)
        ),
        "version.withdraw": lambda e, a: withdraw_version(
            e, actor_id=a, version_id=NO_REQUEST, reason="no"
        ),
        "version.retire": lambda e, a: retire_version(
            e, actor_id=a, version_id=NO_REQUEST, reason="no"
        ),
    }
    for action in PERMISSIONS:
        if action.startswith("post_deployment."):
            item = action.split(".", 1)[1]
            calls[action] = lambda e, a, item=item: tick_post_deployment(
                e, actor_id=a, version_id=dev, item=item
            )
    return calls


def test_every_action_in_the_table_is_exercised(store):
    engine, policy, _, versions, artifacts = store

    assert set(_calls(policy, versions, artifacts)) == set(PERMISSIONS)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(PERMISSIONS))
def test_role_may_act_exactly_where_the_table_says(store, action, role):
    engine, policy, people, versions, artifacts = store
    call = _calls(policy, versions, artifacts)[action]

    if role in PERMISSIONS[action]:
        # Past the permission check the action meets a state it cannot act on.
        with pytest.raises((NotFoundError, WorkflowBlockedError, InvalidInputError)):
            call(engine, people[role])
    else:
        with pytest.raises(PermissionDeniedError):
            call(engine, people[role])


def test_administrator_holds_no_workflow_permission():
    # Reporting an incident is everyone's ("anyone with a role"), not a workflow step.
    held = {action for action, roles in PERMISSIONS.items() if "admin" in roles}

    assert held == {"incident.report"}


def test_a_role_granted_takes_effect_on_the_next_action(store):
    engine, policy, people, versions, artifacts = store
    with unit_of_work(engine) as work:
        newcomer = add_user(
            work,
            actor_id=people["admin"],
            username="newcomer",
            display_name="Newcomer",
            email=None,
            roles=(),
        ).id
    call = _calls(policy, versions, artifacts)["rollout.rollback"]
    with pytest.raises(PermissionDeniedError, match="ML engineer"):
        call(engine, newcomer)

    grant_role(engine, actor_id=people["admin"], user_id=newcomer, role="ml_engineer")

    with pytest.raises(NotFoundError, match="no version in production"):
        call(engine, newcomer)


def test_unknown_user_is_refused(store):
    engine, policy, _, versions, artifacts = store

    with pytest.raises(PermissionDeniedError, match="unknown or deactivated"):
        _calls(policy, versions, artifacts)["approval.request"](engine, "u-planted")
