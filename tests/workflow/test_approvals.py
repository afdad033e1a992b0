import pytest

from governance.access import grant_role
from governance.errors import ConflictError, PermissionDeniedError, StaleApprovalError
from governance.store import read_session
from governance.tables import ModelVersion
from governance.workflow import (
    advance_rollout,
    approve_request,
    deployment_gate,
    get_request,
    missing_for_next_stage,
    reject_request,
    request_approval,
    resubmit_request,
    withdraw_request,
)
from tests.workflow.conftest import REQUEST, add_assessment, register, walk_to_approval

# Domain rules that do not depend on the database run on SQLite only, to keep
# the file fast; the concurrency and full-path tests cover both engines.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
APPROVER_ROLES = (
    "model_owner",
    "compliance_officer",
    "security_officer",
    "ml_engineer",
)


@pytest.fixture
def requested(engine, people, policy, artifacts):
    """A high-risk version with a pending request by the data scientist."""
    version_id = register(engine, people, policy)
    walk_to_approval(engine, people, policy, version_id, artifacts, level="high")
    request_id = request_approval(
        engine,
        actor_id=people["scientist"],
        policy=policy,
        version_id=version_id,
        **REQUEST,
    )
    return version_id, request_id


def _approve(engine, actor_id, request_id, **kwargs):
    row_version = get_request(engine, request_id).row_version
    return approve_request(
        engine,
        actor_id=actor_id,
        request_id=request_id,
        expected_row_version=row_version,
        **kwargs,
    )


def _stage(engine, version_id):
    with read_session(engine) as session:
        return session.get(ModelVersion, version_id).stage


@SQLITE_ONLY
@pytest.mark.parametrize("role", [*APPROVER_ROLES, "admin", "data_scientist"])
def test_requester_never_approves_their_own_request_in_any_role(
    engine, people, requested, role
):
    _, request_id = requested
    if role != "data_scientist":
        grant_role(
            engine, actor_id=people["admin"], user_id=people["scientist"], role=role
        )

    with pytest.raises(PermissionDeniedError) as caught:
        _approve(engine, people["scientist"], request_id)
    if role in ("model_owner", "compliance_officer", "security_officer"):
        assert "Separation of duties" in str(caught.value)
    assert get_request(engine, request_id).decisions == ()


def test_one_person_with_two_roles_fills_one_slot(engine, people, requested):
    _, request_id = requested
    grant_role(
        engine,
        actor_id=people["admin"],
        user_id=people["owner"],
        role="compliance_officer",
    )

    assert _approve(engine, people["owner"], request_id) == "pending"
    with pytest.raises(PermissionDeniedError, match="already decided"):
        _approve(engine, people["owner"], request_id, as_role="compliance_officer")
    view = get_request(engine, request_id)
    assert [(d.approver_id, d.role) for d in view.decisions] == [
        (people["owner"], "model_owner")
    ]
    assert view.open_roles == ("compliance_officer", "security_officer")


def test_approver_without_an_open_slot_is_refused(engine, people, requested):
    _, request_id = requested

    with pytest.raises(PermissionDeniedError, match="fill none of those slots"):
        _approve(engine, people["engineer"], request_id)


def test_rejection_sends_the_version_back_with_its_reason(engine, people, requested):
    version_id, request_id = requested

    status = reject_request(
        engine,
        actor_id=people["compliance"],
        request_id=request_id,
        expected_row_version=1,
        comment="Bias review of region missing.",
    )

    assert status == "rejected"
    assert _stage(engine, version_id) == "development"
    view = get_request(engine, request_id)
    assert [(d.decision, d.comment) for d in view.decisions] == [
        ("rejected", "Bias review of region missing.")
    ]
    # A new cycle asks for the development sign-offs again.
    assert missing_for_next_stage(engine, version_id) == [
        "the data scientist's documentation is missing",
        "the ML engineer's internal review is missing",
    ]


def test_rejected_request_is_resubmitted_after_the_stages_again(
    engine, people, policy, requested, artifacts
):
    version_id, request_id = requested
    reject_request(
        engine,
        actor_id=people["owner"],
        request_id=request_id,
        expected_row_version=1,
        comment="Explain the region effect.",
    )
    walk_to_approval(engine, people, policy, version_id, artifacts, level="high")

    again = resubmit_request(
        engine,
        actor_id=people["scientist"],
        policy=policy,
        request_id=request_id,
        changes="Region effect explained in the documentation.",
    )

    view = get_request(engine, again)
    assert view.status == "pending"
    assert view.changes == "Region effect explained in the documentation."
    assert view.purpose == REQUEST["purpose"]
    assert (
        view.binding["assessment_id"]
        != get_request(engine, request_id).binding["assessment_id"]
    )


def test_withdrawn_request_is_resubmitted_and_only_by_a_data_scientist(
    engine, people, policy, requested
):
    _, request_id = requested
    with pytest.raises(PermissionDeniedError):
        withdraw_request(
            engine, actor_id=people["owner"], request_id=request_id, reason="x"
        )

    withdraw_request(
        engine, actor_id=people["scientist"], request_id=request_id, reason="Typo."
    )

    assert get_request(engine, request_id).status == "withdrawn"
    again = resubmit_request(
        engine, actor_id=people["scientist"], policy=policy, request_id=request_id
    )
    view = get_request(engine, again)
    assert (view.status, view.resubmission_of) == ("pending", request_id)


def test_double_submit_records_one_request(engine, people, policy, requested):
    version_id, _ = requested

    with pytest.raises(ConflictError, match="already pending"):
        request_approval(
            engine,
            actor_id=people["scientist"],
            policy=policy,
            version_id=version_id,
            **REQUEST,
        )


def test_new_assessment_makes_the_approval_stale_and_blocks_deployment(
    engine, people, policy, requested
):
    version_id, request_id = requested
    for name in ("owner", "compliance", "security"):
        _approve(engine, people[name], request_id)
    assert deployment_gate(engine, version_id).is_open

    add_assessment(engine, policy, version_id, level="high", digest="e" * 64)

    gate = deployment_gate(engine, version_id)
    assert not gate.is_open
    assert any(
        "stale" in reason and "newer assessment" in reason for reason in gate.blockers
    )
    assert any("digest changed" in reason for reason in gate.blockers)
    from governance.workflow import WorkflowBlockedError

    with pytest.raises(WorkflowBlockedError, match="stale"):
        advance_rollout(
            engine,
            actor_id=people["engineer"],
            policy=policy,
            version_id=version_id,
            step="staging",
        )


def test_stale_request_cannot_be_approved(engine, people, policy, requested):
    version_id, request_id = requested
    add_assessment(engine, policy, version_id, level="high", digest="e" * 64)

    with pytest.raises(StaleApprovalError, match="newer assessment"):
        _approve(engine, people["owner"], request_id)


def test_gate_names_missing_approvers(engine, people, requested):
    version_id, request_id = requested
    _approve(engine, people["owner"], request_id)

    gate = deployment_gate(engine, version_id)

    assert (
        f"approvals missing from: compliance officer, security officer (request {request_id})"
        in gate.blockers
    )


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("level", "roles"),
    [
        ("low", ("model_owner",)),
        ("medium", ("model_owner", "compliance_officer")),
        ("high", ("model_owner", "compliance_officer", "security_officer")),
    ],
    ids=["low", "medium", "high"],
)
def test_approvers_follow_the_risk_level(
    engine, people, policy, artifacts, level, roles
):
    version_id = register(engine, people, policy)
    walk_to_approval(engine, people, policy, version_id, artifacts, level=level)
    fields = {**REQUEST, "mitigation_plan": None} if level != "high" else REQUEST

    request_id = request_approval(
        engine,
        actor_id=people["scientist"],
        policy=policy,
        version_id=version_id,
        **fields,
    )

    assert get_request(engine, request_id).required_roles == roles
    assert roles == tuple(policy.risk.approvers[level])
