"""Incidents: reporting, playbooks worked in order by the handling role, closure."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlmodel import select

from governance.access import stable_user_id
from governance.audit import unit_of_work, verify_chain
from governance.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    WorkflowBlockedError,
)
from governance.incident_tables import IncidentStep
from governance.operations.incidents import (
    close_incident,
    complete_step,
    get_incident,
    incident_timeline,
    list_incidents,
    open_incident,
    reopen_incident,
    report_incident,
    start_rollback,
    validate_evidence_links,
)
from governance.policy import load_policy
from governance.store import read_session
from governance.tables import AuditEvent, Incident, ModelVersion
from governance.workflow._state import set_stage
from governance.workflow_tables import RolloutStep
from tests.workflow.conftest import SPEC, register

HANDLERS = {"performance": "engineer", "bias": "scientist", "security": "security"}


@pytest.fixture
def version_id(engine, people, policy) -> int:
    return register(engine, people, policy)


def report(engine, policy, people, version_id, *, kind="performance", by="owner", **kw):
    fields = {
        "severity": "high",
        "description": "AUC fell from 0.81 to 0.70 over the last week.",
        "evidence_links": ["https://grafana.example.org/d/leads", "audit:12"],
        **kw,
    }
    return report_incident(
        engine,
        policy,
        actor_id=people[by],
        model_version_id=version_id,
        kind=kind,
        **fields,
    )


def work_through(engine, policy, people, incident_id, kind, steps=None):
    for name in policy.incidents.playbooks[kind].steps if steps is None else steps:
        complete_step(
            engine,
            policy,
            actor_id=people[HANDLERS[kind]],
            incident_id=incident_id,
            step=name,
            note=f"{name} done.",
        )


def incident_count(engine) -> int:
    with read_session(engine) as session:
        return len(session.exec(select(Incident)).all())


def test_open_incident_inside_the_callers_unit_of_work(engine, people, policy):
    version_id = register(engine, people, policy)

    with unit_of_work(engine) as work:
        incident = open_incident(
            work,
            model_version_id=version_id,
            kind="bias",
            severity="medium",
            description="  Nationality disparity 0.14 in the November window.  ",
            evidence_links=["monitoring:42"],
            reported_by="system",
            policy=policy,
        )
        incident_id = incident.id

    view = get_incident(engine, incident_id)
    assert (view.kind, view.severity, view.status) == ("bias", "medium", "open")
    assert view.description == "Nationality disparity 0.14 in the November window."
    assert view.evidence_links == ("monitoring:42",)
    assert view.handled_by == "data_scientist"
    assert [s.step for s in view.steps] == policy.incidents.playbooks["bias"].steps
    assert not any(s.is_done for s in view.steps)


@pytest.mark.parametrize(
    "role", ["owner", "scientist", "engineer", "compliance", "security", "admin"]
)
def test_anyone_holding_a_role_may_report(engine, people, policy, version_id, role):
    incident_id = report(engine, policy, people, version_id, by=role)

    assert get_incident(engine, incident_id).reported_by == role.title()


@pytest.mark.parametrize(
    ("description", "message"),
    [
        ("", "description is empty"),
        ("   \n\t ", "description is empty"),
        ("x" * 5001, "5,001 characters; the limit is 5,000"),
    ],
    ids=["empty", "blank", "enormous"],
)
def test_bad_descriptions_are_refused_and_nothing_is_written(
    engine, people, policy, version_id, description, message
):
    with pytest.raises(InvalidInputError, match=message):
        report(engine, policy, people, version_id, description=description)

    assert incident_count(engine) == 0
    with read_session(engine) as session:
        assert session.exec(select(IncidentStep)).all() == []


def test_a_description_at_the_limit_is_accepted(engine, people, policy, version_id):
    limit = policy.incidents.max_description_chars

    incident_id = report(engine, policy, people, version_id, description="y" * limit)

    assert len(get_incident(engine, incident_id).description) == limit


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "ftp://files.example.org/x",
        "https://",
        "not a link",
        "audit:",
        "https://example.org/" + "a" * 2000,
    ],
    ids=["javascript", "ftp", "no-host", "words", "empty-reference", "too-long"],
)
def test_bad_evidence_links_are_refused(policy, link):
    with pytest.raises(InvalidInputError, match="neither an http"):
        validate_evidence_links([link], policy)


def test_evidence_links_are_cleaned_and_counted(policy):
    links = [
        " https://a.example.org/x ",
        "",
        "alert:7",
        "alert:7",
        "model:lead-scoring/2",
    ]

    assert validate_evidence_links(links, policy) == [
        "https://a.example.org/x",
        "alert:7",
        "model:lead-scoring/2",
    ]
    too_many = [f"alert:{n}" for n in range(policy.incidents.max_evidence_links + 1)]
    with pytest.raises(InvalidInputError, match="limit is 20"):
        validate_evidence_links(too_many, policy)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("kind", "outage", "Unknown incident kind 'outage'"),
        ("severity", "apocalyptic", "Unknown severity 'apocalyptic'"),
        ("model_version_id", 9999, "No model version with id 9999"),
    ],
    ids=["kind", "severity", "version"],
)
def test_unknown_kind_severity_or_version(
    engine, people, policy, version_id, field, value, message
):
    fields = {
        "actor_id": people["owner"],
        "model_version_id": version_id,
        "kind": "performance",
        "severity": "low",
        "description": "Something is off.",
        field: value,
    }
    with pytest.raises((InvalidInputError, NotFoundError), match=message):
        report_incident(engine, policy, **fields)
    assert incident_count(engine) == 0


def test_a_person_without_a_role_cannot_report(engine, people, policy, version_id):
    from governance.access import add_user

    with unit_of_work(engine) as work:
        nobody = add_user(
            work,
            actor_id="system",
            username="visitor",
            display_name="Visitor",
            email=None,
            roles=(),
        ).id

    with pytest.raises(PermissionDeniedError, match="incident report"):
        report_incident(
            engine,
            policy,
            actor_id=nobody,
            model_version_id=version_id,
            kind="security",
            severity="low",
            description="A port is open.",
        )


@pytest.mark.parametrize("kind", ["performance", "bias", "security"])
def test_a_playbook_cannot_be_closed_with_open_steps(
    engine, people, policy, version_id, kind
):
    incident_id = report(engine, policy, people, version_id, kind=kind)
    steps = policy.incidents.playbooks[kind].steps
    work_through(engine, policy, people, incident_id, kind, steps[:-1])
    handler = people[HANDLERS[kind]]

    with pytest.raises(WorkflowBlockedError, match="1 playbook step"):
        close_incident(engine, policy, actor_id=handler, incident_id=incident_id)
    assert get_incident(engine, incident_id).status == "open"

    work_through(engine, policy, people, incident_id, kind, steps[-1:])
    close_incident(engine, policy, actor_id=handler, incident_id=incident_id)
    closed = get_incident(engine, incident_id)
    assert closed.status == "closed"
    assert closed.closed_at is not None
    assert list_incidents(engine) == []


@pytest.mark.parametrize(
    "who", ["owner", "scientist", "engineer", "compliance", "admin"]
)
def test_only_the_security_officer_handles_security_incidents(
    engine, people, policy, version_id, who
):
    incident_id = report(engine, policy, people, version_id, kind="security")

    with pytest.raises(PermissionDeniedError, match="Security officer"):
        complete_step(
            engine,
            policy,
            actor_id=people[who],
            incident_id=incident_id,
            step="detect",
            note="Seen in the access log.",
        )
    complete_step(
        engine,
        policy,
        actor_id=people["security"],
        incident_id=incident_id,
        step="detect",
        note="Seen in the access log.",
    )
    assert get_incident(engine, incident_id).steps[0].done_by == "Security"


@pytest.mark.parametrize(
    ("kind", "step_name"),
    [
        pytest.param(kind, name, id=f"{kind}-{name}")
        for kind, playbook in load_policy().incidents.playbooks.items()
        for name in playbook.steps
    ],
)
def test_each_step_is_worked_by_the_kinds_handling_role_only(
    engine, people, policy, version_id, kind, step_name
):
    incident_id = report(engine, policy, people, version_id, kind=kind)
    steps = policy.incidents.playbooks[kind].steps
    work_through(
        engine, policy, people, incident_id, kind, steps[: steps.index(step_name)]
    )
    handler = HANDLERS[kind]

    for other in set(HANDLERS.values()) | {"owner", "compliance", "admin"}:
        if other == handler:
            continue
        with pytest.raises(PermissionDeniedError):
            complete_step(
                engine,
                policy,
                actor_id=people[other],
                incident_id=incident_id,
                step=step_name,
                note="Tried.",
            )
        with pytest.raises(PermissionDeniedError):
            close_incident(
                engine, policy, actor_id=people[other], incident_id=incident_id
            )
    complete_step(
        engine,
        policy,
        actor_id=people[handler],
        incident_id=incident_id,
        step=step_name,
        note="Done.",
    )
    view = get_incident(engine, incident_id)
    assert view.steps[steps.index(step_name)].is_done


def test_steps_are_worked_in_order_and_once(engine, people, policy, version_id):
    incident_id = report(engine, policy, people, version_id)
    engineer = people["engineer"]

    with pytest.raises(WorkflowBlockedError, match="in order: do Detect, Investigate"):
        complete_step(
            engine,
            policy,
            actor_id=engineer,
            incident_id=incident_id,
            step="fix_or_roll_back",
            note="Retrained.",
        )
    work_through(engine, policy, people, incident_id, "performance", ["detect"])
    with pytest.raises(ConflictError, match="already done"):
        work_through(engine, policy, people, incident_id, "performance", ["detect"])
    with pytest.raises(InvalidInputError, match="no step 'contain'"):
        complete_step(
            engine,
            policy,
            actor_id=engineer,
            incident_id=incident_id,
            step="contain",
            note="x",
        )
    with pytest.raises(InvalidInputError, match="step note is empty"):
        complete_step(
            engine,
            policy,
            actor_id=engineer,
            incident_id=incident_id,
            step="investigate_root_cause",
            note="  ",
        )
    assert get_incident(engine, incident_id).steps_done == 1


def test_the_timeline_is_the_audit_trail_of_the_incident(
    engine, people, policy, version_id
):
    incident_id = report(engine, policy, people, version_id, kind="bias")
    work_through(engine, policy, people, incident_id, "bias")
    scientist = people["scientist"]
    close_incident(
        engine, policy, actor_id=scientist, incident_id=incident_id, note="All done."
    )
    reopen_incident(
        engine,
        policy,
        actor_id=scientist,
        incident_id=incident_id,
        reason="Disparity came back in December.",
        from_step="mitigate",
    )

    timeline = incident_timeline(engine, incident_id)

    assert [entry.action for entry in timeline] == [
        "incident.reported",
        *["incident.step_done"] * 5,
        "incident.closed",
        "incident.reopened",
    ]
    assert [e.details.get("step") for e in timeline[1:6]] == (
        policy.incidents.playbooks["bias"].steps
    )
    assert timeline[0].actor == "Owner"
    assert timeline[-1].details == {
        "reason": "Disparity came back in December.",
        "reopened_steps": [
            "mitigate",
            "retrain_if_needed",
            "update_fairness_monitoring",
        ],
    }
    view = get_incident(engine, incident_id)
    assert view.status == "open"
    assert [s.is_done for s in view.steps] == [True, True, False, False, False]
    assert verify_chain(engine).is_intact
    with read_session(engine) as session:
        stored = session.exec(
            select(AuditEvent).where(AuditEvent.entity_type == "incident")
        ).all()
    assert len(stored) == len(timeline)
    assert json.loads(stored[1].payload)["note"] == "detect done."


def test_a_closed_incident_is_not_worked_and_an_open_one_not_reopened(
    engine, people, policy, version_id
):
    incident_id = report(engine, policy, people, version_id, kind="security")
    officer = people["security"]

    with pytest.raises(ConflictError, match="not closed"):
        reopen_incident(
            engine, policy, actor_id=officer, incident_id=incident_id, reason="Why"
        )
    work_through(engine, policy, people, incident_id, "security")
    close_incident(engine, policy, actor_id=officer, incident_id=incident_id)
    with pytest.raises(WorkflowBlockedError, match="is closed; reopen it"):
        close_incident(engine, policy, actor_id=officer, incident_id=incident_id)
    with pytest.raises(InvalidInputError, match="reason for reopening is empty"):
        reopen_incident(
            engine, policy, actor_id=officer, incident_id=incident_id, reason=""
        )


def in_production(engine, people, policy) -> tuple[int, int]:
    """Versions 1 and 2, version 2 in production having replaced version 1."""
    first = register(engine, people, policy)
    second = register(
        engine, people, policy, version="2", params={**SPEC["params"], "n": "4"}
    )
    with unit_of_work(engine) as work:
        for version_id, stage in ((first, "retired"), (second, "production")):
            set_stage(
                work,
                actor_id=people["engineer"],
                version=work.session.get(ModelVersion, version_id),
                stage=stage,
            )
        work.session.add(
            RolloutStep(
                model_version_id=second,
                model_name="lead-scoring",
                step="production",
                replaced_version_id=first,
                performed_by=people["engineer"],
            )
        )
    return first, second


def test_a_rollback_started_from_an_incident_is_linked(engine, people, policy):
    first, second = in_production(engine, people, policy)
    incident_id = report(engine, policy, people, second)
    engineer = people["engineer"]

    with pytest.raises(WorkflowBlockedError, match="in order"):
        start_rollback(
            engine, policy, actor_id=engineer, incident_id=incident_id, reason="AUC"
        )
    work_through(
        engine,
        policy,
        people,
        incident_id,
        "performance",
        ["detect", "investigate_root_cause"],
    )
    with pytest.raises(PermissionDeniedError):
        start_rollback(
            engine,
            policy,
            actor_id=people["owner"],
            incident_id=incident_id,
            reason="AUC",
        )
    rollout_step_id = start_rollback(
        engine,
        policy,
        actor_id=engineer,
        incident_id=incident_id,
        reason="AUC fell below 0.75; back to version 1.",
    )

    with read_session(engine) as session:
        rollout = session.get(RolloutStep, rollout_step_id)
        linked = (rollout.step, rollout.model_version_id, rollout.replaced_version_id)
        stages = (
            session.get(ModelVersion, first).stage,
            session.get(ModelVersion, second).stage,
        )
    assert linked == ("rollback", first, second)
    assert stages == ("production", "retired")
    view = get_incident(engine, incident_id)
    fix = view.steps[2]
    assert (fix.step, fix.rollout_step_id, fix.is_done) == (
        "fix_or_roll_back",
        rollout_step_id,
        False,
    )
    last = incident_timeline(engine, incident_id)[-1]
    assert last.action == "incident.rollback_started"
    assert last.details["rollout_step_id"] == rollout_step_id


def test_a_bias_incident_has_no_rollback_step(engine, people, policy, version_id):
    incident_id = report(engine, policy, people, version_id, kind="bias")

    with pytest.raises(WorkflowBlockedError, match="no rollback step"):
        start_rollback(
            engine,
            policy,
            actor_id=people["scientist"],
            incident_id=incident_id,
            reason="x",
        )


def test_the_demo_seeds_incidents_and_reviews(engine, policy, settings):
    from governance.demo.incidents import seed_incidents
    from governance.demo.world import seed_people
    from governance.operations.calendar import review_tasks
    from tests.operations.test_calendar import put_in_production

    seed_people(engine)
    demo = {
        "scientist": stable_user_id("omar"),
        "owner": stable_user_id("layla"),
        "engineer": stable_user_id("priya"),
    }
    register(engine, demo, policy)
    yesterday = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    put_in_production(
        engine,
        demo,
        policy,
        since=yesterday,
        version="2",
        params={**SPEC["params"], "n_estimators": "400"},
    )

    story = seed_incidents(settings, engine, policy)

    incidents = list_incidents(engine, include_closed=True)
    assert [(i.kind, i.status, i.steps_done) for i in incidents] == [
        ("performance", "open", 2),
        ("bias", "closed", 5),
    ]
    assert incidents[0].next_step.step == "fix_or_roll_back"
    today = dt.datetime.now(dt.UTC).date()
    statuses = {(t.review, t.status) for t in review_tasks(engine, policy, today=today)}
    assert {("performance", "done"), ("performance", "overdue"), ("drift", "done")} <= (
        statuses
    )
    assert ("model", "due") in statuses
    assert "bias incident" in story


def test_incidents_wait_in_the_inbox_of_the_handling_role(
    engine, people, policy, version_id
):
    from governance.workflow.inbox import inbox

    incident_id = report(engine, policy, people, version_id, kind="security")
    work_through(engine, policy, people, incident_id, "security", ["detect"])

    waiting = [
        item.what
        for item in inbox(engine, policy, people["security"])
        if item.action == "incident.step"
    ]
    others = [
        item
        for name in ("owner", "engineer", "scientist", "compliance")
        for item in inbox(engine, policy, people[name])
        if item.action == "incident.step"
    ]

    assert waiting == [f"Incident {incident_id} (security, high): Contain the threat"]
    assert others == []


def test_the_incident_commands(engine, people, policy, settings, monkeypatch, capsys):
    from governance.cli import main

    register(engine, people, policy)
    monkeypatch.setenv("GOVERNANCE_HOME", str(settings.home))
    monkeypatch.setenv("GOVERNANCE_DATABASE_URL", settings.database_url)
    report_args = ["incident", "report", "--model", "lead-scoring", "--version", "1"]
    report_args += ["--kind", "performance", "--severity", "high"]

    assert main([*report_args, "--description", "", "--as", "owner"]) == 2
    assert "description is empty" in capsys.readouterr().err
    assert main([*report_args, "--description", "AUC fell.", "--as", "owner"]) == 0
    assert "Reported incident 1" in capsys.readouterr().out
    assert main(["incident", "close", "1", "--as", "engineer"]) == 2
    assert "5 playbook step(s) are still open" in capsys.readouterr().err
    for step in policy.incidents.playbooks["performance"].steps:
        assert (
            main(["incident", "step", "1", step, "--note", "ok", "--as", "engineer"])
            == 0
        )
    assert main(["incident", "list"]) == 0
    assert "5/5 steps  ready to close" in capsys.readouterr().out
    assert main(["incident", "close", "1", "--as", "engineer"]) == 0
    assert main(["incident", "show", "1"]) == 0
    shown = capsys.readouterr().out
    assert "incident.closed" in shown
    assert "[x] 5. Update monitoring" in shown


def test_two_people_marking_the_same_step_at_once_record_it_once(
    engine, people, policy, version_id
):
    from concurrent.futures import ThreadPoolExecutor

    incident_id = report(engine, policy, people, version_id)

    def mark(note):
        try:
            complete_step(
                engine,
                policy,
                actor_id=people["engineer"],
                incident_id=incident_id,
                step="detect",
                note=note,
            )
        except ConflictError:
            return "conflict"
        return "done"

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = sorted(pool.map(mark, [f"click {n}" for n in range(4)]))

    assert outcomes == ["conflict", "conflict", "conflict", "done"]
    steps_done = [
        e
        for e in incident_timeline(engine, incident_id)
        if e.action == "incident.step_done"
    ]
    assert len(steps_done) == 1


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda raw: raw["incidents"]["playbooks"].pop("security"), "playbooks"),
        (
            lambda raw: raw["incidents"]["playbooks"]["bias"].__setitem__(
                "rollback_step", "undo"
            ),
            "incidents.playbooks.bias",
        ),
        (
            lambda raw: raw["incidents"]["playbooks"]["bias"].__setitem__(
                "handled_by", "intern"
            ),
            "incidents.playbooks.bias.handled_by",
        ),
        (
            lambda raw: raw["incidents"]["playbooks"]["security"].__setitem__(
                "steps", ["detect", "detect"]
            ),
            "incidents.playbooks.security",
        ),
        (lambda raw: raw["incidents"].__setitem__("max_description_chars", 0), "max"),
        (lambda raw: raw["reviews"]["assigned_to"].pop("governance"), "assigned_to"),
    ],
    ids=[
        "kind-without-playbook",
        "rollback-step-not-a-step",
        "unknown-role",
        "repeated-step",
        "zero-limit",
        "review-unassigned",
    ],
)
def test_a_malformed_incidents_or_reviews_policy_names_the_key(edit, key):
    import yaml

    from governance.errors import PolicyError
    from governance.policy import DEFAULT_POLICY_PATH, parse_policy

    raw = yaml.safe_load(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
    edit(raw)

    with pytest.raises(PolicyError, match=f"policy.yaml: [a-z_.]*{key}"):
        parse_policy(yaml.safe_dump(raw), source="policy.yaml")


def test_a_refused_step_is_recorded_on_the_incident(engine, people, policy, version_id):
    incident_id = report(engine, policy, people, version_id, kind="security")

    with pytest.raises(PermissionDeniedError):
        complete_step(
            engine,
            policy,
            actor_id=people["engineer"],
            incident_id=incident_id,
            step="detect",
            note="I will take it.",
        )

    denied = incident_timeline(engine, incident_id)[-1]
    assert (denied.action, denied.actor) == ("access.denied", "Engineer")
    assert denied.details["attempted"] == "incident.step"
    assert get_incident(engine, incident_id).steps_done == 0
    assert verify_chain(engine).is_intact
