"""Which model each audit event is about: the resolver, its rows and their backfill.

Each case records one event through the unit of work, on SQLite and PostgreSQL,
and reads the ``audit_event_subject`` row written with it; the migration test
drops the table back to 0011 with events present and checks that the upgrade
fills it with the same rows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

import governance.audit
import governance.records.retention as retention_module
from governance.alert_tables import Alert
from governance.audit import unit_of_work
from governance.audit_records_tables import LegalHold
from governance.audit_subject_tables import AuditEventSubject
from governance.inventory import register_version
from governance.operations_tables import RetrainingRequest
from governance.records.explorer import AuditFilter, events_page
from governance.records.retention import add_years, purge
from governance.records_tables import ComplianceReport
from governance.store import read_session, write_session
from governance.tables import Assessment, AuditEvent, Incident
from governance.workflow_tables import ApprovalRequest


def _register(engine, people, policy, name, version):
    return register_version(
        engine,
        actor_id=people["scientist"],
        policy=policy,
        name=name,
        version=version,
        model_uri=f"models:/{name}/{version}",
        owner_id=people["owner"],
    )


@pytest.fixture
def rows(engine, people, policy):
    """Versions, and one row of each entity that names a version; name -> id."""
    ids = {
        "churn/1": _register(engine, people, policy, "churn", "1"),
        "churn/2": _register(engine, people, policy, "churn", "2"),
        "fraud/1": _register(engine, people, policy, "fraud", "1"),
    }
    with write_session(engine) as session:
        assessment = Assessment(
            model_version_id=ids["churn/2"],
            passed=True,
            created_by=people["scientist"],
            policy_version=policy.version,
            policy_hash=policy.content_hash,
        )
        session.add(assessment)
        session.flush()
        made = {
            "request": ApprovalRequest(
                model_version_id=ids["churn/2"],
                cycle=1,
                requested_by=people["scientist"],
                purpose="p",
                changes="c",
                risk_summary="r",
                risk_level="low",
                change_class="major",
                assessment_id=assessment.id,
                policy_version=policy.version,
                policy_hash=policy.content_hash,
            ),
            "incident": Incident(
                model_version_id=ids["churn/1"],
                kind="performance",
                severity="high",
                description="AUC fell",
                reported_by=people["engineer"],
            ),
            "alert": Alert(
                kind="drift",
                severity="warning",
                title="t",
                body="b",
                roles=["model_owner"],
                model_version_id=ids["fraud/1"],
                raised_by=people["engineer"],
            ),
            "alert-without-version": Alert(
                kind="training",
                severity="info",
                title="t",
                body="b",
                roles=["admin"],
                raised_by=people["admin"],
            ),
            "version-report": ComplianceReport(
                kind="approval_record",
                title="t",
                model_version_id=ids["churn/2"],
                html_path="a.html",
                pdf_path="a.pdf",
                html_sha256="a" * 64,
                pdf_sha256="b" * 64,
                policy_version=policy.version,
                created_by=people["compliance"],
            ),
            "periodic-report": ComplianceReport(
                kind="monthly_compliance",
                title="t",
                html_path="m.html",
                pdf_path="m.pdf",
                html_sha256="a" * 64,
                pdf_sha256="b" * 64,
                policy_version=policy.version,
                created_by=people["compliance"],
            ),
            "retraining": RetrainingRequest(
                model_name="fraud",
                model_version_id=ids["fraud/1"],
                reason="drift",
                opened_by=people["engineer"],
            ),
        }
        for row in made.values():
            session.add(row)
        session.flush()
        ids.update({name: row.id for name, row in made.items()})
        holds = {
            "hold-on-model": ("model", "fraud"),
            "hold-on-version": ("model_version", str(ids["churn/1"])),
            "hold-on-document": ("compliance_report", str(ids["version-report"])),
            "hold-on-audit-log": ("audit_log", ""),
        }
        for name, (subject_type, subject_id) in holds.items():
            hold = LegalHold(
                subject_type=subject_type,
                subject_id=subject_id,
                reason="matter 12",
                placed_by=people["compliance"],
            )
            session.add(hold)
            session.flush()
            ids[name] = hold.id
    return ids


# (entity type, entity id as a template over the row ids, payload, subject).
# Templates are filled with `rows`; a payload value "{name}" becomes that row id.
CASES = {
    "model": ("model", "churn", {}, ("churn", None)),
    "version-by-row-id": ("model_version", "{churn/2}", {}, ("churn", "2")),
    "version-by-name": ("model_version", "churn/1", {}, ("churn", "1")),
    "version-name-with-slash": (
        "model_version",
        "team/churn/3",
        {},
        ("team/churn", "3"),
    ),
    "version-unknown-row-id": ("model_version", "999999", {}, None),
    "approval-request": ("approval_request", "{request}", {}, ("churn", "2")),
    "approval-request-unknown": ("approval_request", "999999", {}, None),
    "payload-model-and-version": (
        "incident",
        "999999",
        {"model": "fraud", "version": "1"},
        ("fraud", "1"),
    ),
    "payload-numeric-version": (
        "report",
        "1",
        {"model": "churn", "version": 2},
        ("churn", "2"),
    ),
    "payload-model-name-only": (
        "alert",
        "999999",
        {"model_name": "churn"},
        ("churn", None),
    ),
    "payload-version-row-id": (
        "monitoring_window",
        "3",
        {"model_version_id": "{fraud/1}"},
        ("fraud", "1"),
    ),
    "payload-unknown-row-id-then-name": (
        "monitoring_window",
        "4",
        {"model_version_id": 999999, "model": "churn"},
        ("churn", None),
    ),
    "incident-follow-up": (
        "incident",
        "{incident}",
        {"step": "triage"},
        ("churn", "1"),
    ),
    "alert-acknowledged": ("alert", "{alert}", {"kind": "drift"}, ("fraud", "1")),
    "alert-without-version": ("alert", "{alert-without-version}", {}, None),
    "version-document": ("compliance_report", "{version-report}", {}, ("churn", "2")),
    "periodic-report": (
        "compliance_report",
        "{periodic-report}",
        {"model_version_id": None},
        None,
    ),
    "retraining-status": ("retraining_request", "{retraining}", {}, ("fraud", "1")),
    "hold-on-model": ("legal_hold", "{hold-on-model}", {}, ("fraud", None)),
    "hold-on-version": ("legal_hold", "{hold-on-version}", {}, ("churn", "1")),
    "hold-on-document": ("legal_hold", "{hold-on-document}", {}, ("churn", "2")),
    "hold-on-audit-log": ("legal_hold", "{hold-on-audit-log}", {}, None),
    "review-of-a-model": (
        "review",
        "drift/churn/2026-03",
        {"review": "drift", "scope": "churn"},
        ("churn", None),
    ),
    "governance-review": (
        "review",
        "governance/console/2026-Q1",
        {"review": "governance", "scope": "console"},
        None,
    ),
    "user": ("user", "u-1", {"method": "local"}, None),
    "policy": ("policy", "1.0.0", {"version": "1.0.0"}, None),
    "model-named-only-in-text": ("note", "1", {"text": '"model":"churn"'}, None),
    "boolean-row-id": ("note", "2", {"model_version_id": True}, None),
}


def _fill(value, ids):
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    return value


def _record(engine, people, ids, case):
    entity_type, entity_id, payload, _ = case
    with unit_of_work(engine) as work:
        event = work.record(
            actor_id=people["admin"],
            action="test.recorded",
            entity_type=entity_type,
            entity_id=str(_fill(entity_id, ids)),
            payload={key: _fill(value, ids) for key, value in payload.items()},
        )
        seq = event.seq
    return seq


def _subjects(engine):
    with read_session(engine) as session:
        found = session.exec(select(AuditEventSubject)).all()
    return {row.seq: (row.model_name, row.model_version) for row in found}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_each_event_records_the_model_it_is_about(engine, people, rows, case):
    seq = _record(engine, people, rows, case)

    assert _subjects(engine).get(seq) == case[3]


def test_backfill_from_0011_gives_the_resolvers_rows(engine, people, rows):
    from alembic import command

    from governance.store import _alembic_config

    seqs = {name: _record(engine, people, rows, case) for name, case in CASES.items()}
    recorded = _subjects(engine)
    expected = {
        seqs[name]: case[3] for name, case in CASES.items() if case[3] is not None
    }

    with engine.begin() as connection:
        command.downgrade(_alembic_config(connection), "0011")
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "head")

    backfilled = _subjects(engine)
    assert {seq: backfilled.get(seq) for seq in expected} == expected
    # Registrations and the fixture's events resolve too, as they did when recorded.
    assert backfilled == recorded
    assert ("churn", "2") in backfilled.values()


def test_model_filter_reads_the_subject_rows(engine, people, rows):
    for name in ("incident-follow-up", "alert-acknowledged", "user"):
        _record(engine, people, rows, CASES[name])

    churn_1 = events_page(engine, AuditFilter(model="churn", version="1"))
    fraud = events_page(engine, AuditFilter(model="fraud"))

    assert [e["action"] for e in churn_1.events] == [
        "test.recorded",
        "version.registered",
    ]
    assert [e["action"] for e in fraud.events] == [
        "test.recorded",
        "version.registered",
        "model.registered",
    ]


def test_purge_deletes_the_subject_rows_of_purged_events(
    engine, settings, people, policy, monkeypatch
):
    t0 = datetime.now(UTC)
    moment = {"now": t0}
    monkeypatch.setattr(governance.audit, "wall_clock", lambda: moment["now"])
    monkeypatch.setattr(retention_module, "utc_now", lambda: moment["now"])
    _register(engine, people, policy, "alpha", "1")
    moment["now"] = t0 + timedelta(days=3 * 366)
    _register(engine, people, policy, "beta", "1")
    as_of = add_years(t0.date(), 7) + timedelta(days=1)
    moment["now"] = datetime.combine(as_of, datetime.min.time(), tzinfo=UTC)

    result = purge(
        settings,
        engine,
        policy,
        actor_id=people["compliance"],
        as_of=as_of,
        now=moment["now"],
    )

    with read_session(engine) as session:
        remaining = set(session.exec(select(AuditEvent.seq)).all())
    subjects = _subjects(engine)
    assert result.plan.cut_seq > 0
    assert set(subjects) <= remaining
    assert min(subjects) > result.plan.cut_seq
    assert set(subjects.values()) == {("beta", None), ("beta", "1")}


@pytest.mark.slow
@pytest.mark.xdist_group("demo")
def test_every_demo_event_about_a_model_has_its_subject(demo_world):
    from governance.bootstrap import prepare_store

    engine, _ = prepare_store(demo_world)
    about_models = {"model", "model_version", "approval_request"}
    about_nothing = {"user", "policy", "demo", "training_completion"}
    try:
        with read_session(engine) as session:
            events = session.exec(select(AuditEvent)).all()
            subjects = {row.seq: row for row in session.exec(select(AuditEventSubject))}
    finally:
        engine.dispose()

    kinds = {event.entity_type for event in events}
    assert about_models <= kinds
    missing = [
        (e.seq, e.action)
        for e in events
        if e.entity_type in about_models and e.seq not in subjects
    ]
    extra = [
        (e.seq, e.action)
        for e in events
        if e.entity_type in about_nothing and e.seq in subjects
    ]
    assert missing == []
    assert extra == []
    assert {row.model_name for row in subjects.values()} >= {
        "lead-scoring",
        "licence-renewal",
    }
