"""Twenty threads at once: one decision, no lost update, an intact audit chain."""

import threading

import pytest
from sqlmodel import func, select

from governance.access import SYSTEM_USER_ID, add_user
from governance.audit import unit_of_work, verify_chain
from governance.errors import ConflictError
from governance.store import read_session
from governance.tables import AuditEvent
from governance.workflow import approve_request, get_request, request_approval
from governance.workflow_tables import ApprovalDecision, ApprovalRequest
from tests.workflow.conftest import REQUEST, register, walk_to_approval

THREADS = 20
APPROVER_ROLES = ("model_owner", "compliance_officer", "security_officer")


def run_at_once(action):
    """Run ``action(i)`` in THREADS threads released together; return outcomes."""
    barrier = threading.Barrier(THREADS)
    outcomes = [None] * THREADS

    def worker(index):
        barrier.wait()
        try:
            outcomes[index] = action(index)
        except Exception as exc:  # noqa: BLE001  (collected and asserted by the test)
            outcomes[index] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _count(engine, model, *where):
    with read_session(engine) as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


@pytest.fixture
def approval_stage(engine, people, policy, artifacts):
    version_id = register(engine, people, policy)
    walk_to_approval(engine, people, policy, version_id, artifacts, level="high")
    return version_id


@pytest.fixture
def request_id(engine, people, policy, approval_stage):
    return request_approval(
        engine,
        actor_id=people["scientist"],
        policy=policy,
        version_id=approval_stage,
        **REQUEST,
    )


def test_twenty_reviewers_at_once_record_one_decision(engine, request_id):
    with unit_of_work(engine) as work:
        reviewers = [
            add_user(
                work,
                actor_id=SYSTEM_USER_ID,
                username=f"reviewer{i}",
                display_name=f"Reviewer {i}",
                email=None,
                roles=(APPROVER_ROLES[i % 3],),
            ).id
            for i in range(THREADS)
        ]

    outcomes = run_at_once(
        lambda i: approve_request(
            engine,
            actor_id=reviewers[i],
            request_id=request_id,
            expected_row_version=1,
            comment=f"reviewer {i}",
        )
    )

    assert outcomes.count("pending") == 1
    conflicts = [o for o in outcomes if isinstance(o, ConflictError)]
    assert len(conflicts) == THREADS - 1
    assert all("reload" in str(c) for c in conflicts)
    assert (
        _count(engine, ApprovalDecision, ApprovalDecision.request_id == request_id) == 1
    )
    assert get_request(engine, request_id).row_version == 2
    assert _count(engine, AuditEvent, AuditEvent.action == "approval.approved") == 1
    assert verify_chain(engine).is_intact


def test_a_double_click_records_one_decision(engine, people, request_id):
    outcomes = run_at_once(
        lambda i: approve_request(
            engine,
            actor_id=people["owner"],
            request_id=request_id,
            expected_row_version=1,
        )
    )

    assert outcomes.count("pending") == 1
    assert sum(isinstance(o, ConflictError) for o in outcomes) == THREADS - 1
    assert (
        _count(engine, ApprovalDecision, ApprovalDecision.request_id == request_id) == 1
    )
    assert verify_chain(engine).is_intact


def test_twenty_submissions_record_one_request(engine, people, policy, approval_stage):
    outcomes = run_at_once(
        lambda i: request_approval(
            engine,
            actor_id=people["scientist"],
            policy=policy,
            version_id=approval_stage,
            **REQUEST,
        )
    )

    assert sum(isinstance(o, int) for o in outcomes) == 1
    assert sum(isinstance(o, ConflictError) for o in outcomes) == THREADS - 1
    assert (
        _count(
            engine, ApprovalRequest, ApprovalRequest.model_version_id == approval_stage
        )
        == 1
    )
    assert verify_chain(engine).is_intact
