"""Retraining requests: their path back into the workflow, permissions, conflicts."""

import threading
from datetime import UTC, datetime

import numpy as np
import pytest
from sqlmodel import select

from governance.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from governance.operations.monitoring import run_monitoring, set_log_location
from governance.operations.retraining import (
    decline_request,
    link_version,
    linkable_versions,
    reconcile_requests,
    requests_of_model,
)
from governance.operations_tables import MonitoringWindow, RetrainingRequest
from governance.store import read_session
from governance.tables import AuditEvent
from governance.workflow import inbox, record_change_class
from tests.operations.monitoring_support import (
    month_of_predictions,
    put_in_production,
    version_in_production,
    write_log,
)
from tests.workflow.conftest import register

MAR, APR = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
RETRAINED = {"train": {"rows": 14000, "sha256": "b" * 64}}


@pytest.fixture
def request_id(settings, engine, policy, people, tmp_path):
    """An open retraining request, opened by a month of drift on lead-scoring 1."""
    version_in_production(engine, people, policy, tmp_path)
    rng = np.random.default_rng(5)
    log = write_log(
        tmp_path / "log.csv", month_of_predictions(rng, MAR, 500, visits_mean=9.0)
    )
    set_log_location(
        engine, actor_id=people["engineer"], model_name="lead-scoring", location=log
    )
    run_monitoring(settings, engine, policy, actor_id=people["engineer"], now=APR)
    [request] = requests_of_model(engine, "lead-scoring")
    return request.id


def _request(engine, request_id):
    with read_session(engine) as session:
        return session.get(RetrainingRequest, request_id)


def _actions(engine, request_id):
    with read_session(engine) as session:
        return [
            event.action
            for event in session.exec(
                select(AuditEvent)
                .where(
                    AuditEvent.entity_type == "retraining_request",
                    AuditEvent.entity_id == str(request_id),
                )
                .order_by(AuditEvent.seq)
            ).all()
        ]


def test_the_request_goes_back_through_the_workflow(engine, policy, people, request_id):
    retrained = register(engine, people, policy, version="2", **RETRAINED)

    link_version(
        engine,
        actor_id=people["scientist"],
        request_id=request_id,
        version_id=retrained,
    )
    record = record_change_class(
        engine, actor_id=people["scientist"], version_id=retrained
    )
    before = requests_of_model(engine, "lead-scoring")[0]
    put_in_production(engine, retrained)
    changed = reconcile_requests(engine)
    after = requests_of_model(engine, "lead-scoring")[0]

    assert record > 0
    assert (before.status, before.linked_version, before.linked_change_class) == (
        "open",
        "2",
        "minor",
    )
    assert changed == 1
    assert (after.status, after.close_reason) == (
        "completed",
        "Version 2 reached production.",
    )
    assert _actions(engine, request_id) == [
        "retraining.requested",
        "retraining.trigger_fired",
        "retraining.version_linked",
        "retraining.completed",
    ]


def test_a_newer_version_is_linked_automatically(engine, policy, people, request_id):
    register(engine, people, policy, version="2", **RETRAINED)

    changed = reconcile_requests(engine)
    again = reconcile_requests(engine)

    request = _request(engine, request_id)
    assert (changed, again) == (1, 0)
    assert request.linked_by == "system"
    assert request.status == "open"


def test_the_inbox_shows_the_request_to_scientists_and_the_owner(
    engine, policy, people, request_id
):
    scientist = [
        i for i in inbox(engine, policy, people["scientist"]) if "retrain" in i.action
    ]
    owner = [i for i in inbox(engine, policy, people["owner"]) if "retrain" in i.action]
    engineer = [
        i for i in inbox(engine, policy, people["engineer"]) if "retrain" in i.action
    ]

    assert [(i.action, i.model_name, i.version) for i in scientist] == [
        ("retraining.link_version", "lead-scoring", "1")
    ]
    assert f"request {request_id}" in scientist[0].what
    assert [i.action for i in owner] == ["retraining.decline"]
    assert engineer == []


def test_the_owner_declines_with_a_reason(engine, people, request_id):
    with pytest.raises(InvalidInputError, match="reason for declining is empty"):
        decline_request(
            engine, actor_id=people["owner"], request_id=request_id, reason=" "
        )

    decline_request(
        engine,
        actor_id=people["owner"],
        request_id=request_id,
        reason="Seasonal drift.",
    )

    request = _request(engine, request_id)
    assert (request.status, request.close_reason, request.closed_by) == (
        "declined",
        "Seasonal drift.",
        people["owner"],
    )
    with pytest.raises(ConflictError, match="already declined"):
        decline_request(
            engine, actor_id=people["owner"], request_id=request_id, reason="Again."
        )


@pytest.mark.parametrize(
    ("who", "call"),
    [
        ("engineer", "link"),
        ("owner", "link"),
        ("scientist", "decline"),
        ("engineer", "decline"),
    ],
    ids=["engineer-links", "owner-links", "scientist-declines", "engineer-declines"],
)
def test_only_the_responsible_roles_act(engine, policy, people, request_id, who, call):
    retrained = register(engine, people, policy, version="2", **RETRAINED)

    actions = {
        "link": lambda: link_version(
            engine, actor_id=people[who], request_id=request_id, version_id=retrained
        ),
        "decline": lambda: decline_request(
            engine, actor_id=people[who], request_id=request_id, reason="No."
        ),
    }

    with pytest.raises(PermissionDeniedError):
        actions[call]()


def test_a_version_of_another_model_or_in_production_is_refused(
    engine, policy, people, request_id
):
    other = register(engine, people, policy, name="churn", version="1")
    production = _request(engine, request_id).model_version_id

    with pytest.raises(InvalidInputError, match="not a version of lead-scoring"):
        link_version(
            engine,
            actor_id=people["scientist"],
            request_id=request_id,
            version_id=other,
        )
    with pytest.raises(InvalidInputError, match="is production"):
        link_version(
            engine,
            actor_id=people["scientist"],
            request_id=request_id,
            version_id=production,
        )
    with pytest.raises(NotFoundError):
        link_version(
            engine, actor_id=people["scientist"], request_id=999, version_id=other
        )
    assert linkable_versions(engine, request_id) == []


def test_a_stale_row_version_is_a_conflict(engine, policy, people, request_id):
    retrained = register(engine, people, policy, version="2", **RETRAINED)
    read = _request(engine, request_id).row_version
    link_version(
        engine,
        actor_id=people["scientist"],
        request_id=request_id,
        version_id=retrained,
    )

    with pytest.raises(ConflictError, match="changed since you opened it"):
        decline_request(
            engine,
            actor_id=people["owner"],
            request_id=request_id,
            reason="No.",
            expected_row_version=read,
        )


def test_two_concurrent_runs_store_each_window_once(
    settings, engine, policy, people, tmp_path
):
    version_in_production(engine, people, policy, tmp_path)
    rng = np.random.default_rng(6)
    log = write_log(
        tmp_path / "log.csv",
        month_of_predictions(rng, datetime(2026, 2, 1, tzinfo=UTC), 400),
        month_of_predictions(rng, MAR, 400, visits_mean=9.0),
    )
    set_log_location(
        engine, actor_id=people["engineer"], model_name="lead-scoring", location=log
    )
    errors = []

    def run():
        try:
            run_monitoring(
                settings, engine, policy, actor_id=people["engineer"], now=APR
            )
        except Exception as exc:  # noqa: BLE001  (the assertion reports it)
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    with read_session(engine) as session:
        windows = session.exec(select(MonitoringWindow.label)).all()
        requests = session.exec(select(RetrainingRequest)).all()
    assert errors == []
    assert sorted(windows) == ["2026-02", "2026-03"]
    assert len(requests) == 1
