"""Periodic reports: their numbers equal the records they summarise.

The store below is written row by row with known times, so every number of the
November 2026 report is counted by hand in the comments.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from governance.access import SYSTEM_USER_ID
from governance.audit import unit_of_work, verify_chain
from governance.cli import main
from governance.errors import (
    InvalidInputError,
    PermissionDeniedError,
    WorkflowBlockedError,
)
from governance.incident_tables import IncidentStep
from governance.operations_tables import RetrainingRequest, RetrainingTrigger
from governance.records.rendering import render_html
from governance.records.reports import (
    build_report,
    generate_report,
    period_of,
    report_document,
    report_period,
)
from governance.records.stored import (
    ReportIntegrityError,
    get_report,
    list_reports,
    report_file,
)
from governance.records.training import training_compliance
from governance.records_tables import ComplianceReport
from governance.store import read_session, write_session
from governance.tables import (
    Assessment,
    AuditEvent,
    GovernedModel,
    Incident,
    ModelVersion,
    RoleAssignment,
)
from governance.training_tables import TrainingCompletion
from governance.workflow import pre_deployment_checklist
from governance.workflow_tables import ApprovalDecision, ApprovalRequest

NOVEMBER = "2026-11"
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _insert(engine, *rows):
    with unit_of_work(engine) as work:
        for row in rows:
            work.session.add(row)
        work.session.flush()
        work.record(
            actor_id=SYSTEM_USER_ID,
            action="test.seeded",
            entity_type="test",
            entity_id="seed",
            payload={"rows": len(rows)},
        )
        return [getattr(row, "id", None) for row in rows]


def _version(policy, people, model, version, registered):
    return ModelVersion(
        model_name=model,
        version=version,
        run_id=f"run-{model}-{version}",
        model_uri=f"models:/{model}/{version}",
        registered_by=people["scientist"],
        registered_at=at(registered),
        policy_version=policy.version,
        policy_hash=policy.content_hash,
    )


def _assessment(policy, version_id, level, score, created):
    factors = {
        "data_quality": 0.1,
        "performance": 0.2,
        "bias": score,
        "stability": 0.0,
        "security": 0.3,
    }
    evidence = {
        "risk": {"level": level, "score": score, "factors": factors},
        "standards": [{"name": "auc", "value": 0.8, "threshold": 0.75, "passed": True}],
        "fairness": {"features": [{"name": "region"}]},
        "explanations": {"standard": {"passed": True, "detail": "SHAP stored"}},
        "model_artifacts": {"sha256": "d" * 64},
    }
    return Assessment(
        model_version_id=version_id,
        passed=True,
        risk_level=level,
        risk_score=score,
        evidence=evidence,
        created_by=SYSTEM_USER_ID,
        created_at=at(created),
        policy_version=policy.version,
        policy_hash=policy.content_hash,
    )


def _request(policy, people, version_id, assessment_id, requested, **fields):
    return ApprovalRequest(
        model_version_id=version_id,
        cycle=1,
        requested_by=people["scientist"],
        requested_at=at(requested),
        purpose="Score leads.",
        changes="First version.",
        risk_summary="See the assessment.",
        risk_level=fields.pop("risk_level", "medium"),
        change_class="critical",
        required_roles=["model_owner", "compliance_officer"],
        assessment_id=assessment_id,
        policy_version=policy.version,
        policy_hash=policy.content_hash,
        **fields,
    )


def _incident(people, version_id, kind, severity, reported, closed=None):
    return Incident(
        model_version_id=version_id,
        kind=kind,
        severity=severity,
        status="closed" if closed else "open",
        description=f"{kind} incident",
        reported_by=people["engineer"],
        reported_at=at(reported),
        closed_at=at(closed) if closed else None,
    )


@pytest.fixture
def store(engine, people, policy):
    """A small store with known versions, assessments, approvals and incidents."""
    _insert(
        engine,
        GovernedModel(name="alpha", owner_id=people["owner"]),
        GovernedModel(name="beta", owner_id=people["owner"]),
    )
    a1, a2, b1, _b2 = _insert(
        engine,
        _version(policy, people, "alpha", "1", "2026-10-01 08:00:00"),
        _version(policy, people, "alpha", "2", "2026-11-05 08:00:00"),
        _version(policy, people, "beta", "1", "2026-11-20 08:00:00"),
        # Registered after November: not in November's report.
        _version(policy, people, "beta", "2", "2026-12-02 08:00:00"),
    )
    assessments = _insert(
        engine,
        _assessment(policy, a1, "high", 0.8, "2026-10-02 10:00:00"),
        # alpha 1's latest before the end of November: medium.
        _assessment(policy, a1, "medium", 0.5, "2026-11-10 10:00:00"),
        _assessment(policy, a2, "low", 0.2, "2026-11-06 10:00:00"),
        # After November: November's report still says low for alpha 2.
        _assessment(policy, a2, "high", 0.9, "2026-12-02 10:00:00"),
    )
    requests = _insert(
        engine,
        # R1: the first instant of November to 3 Nov 12:00, approved: 60 h.
        _request(
            policy,
            people,
            a1,
            assessments[1],
            "2026-11-01 00:00:00",
            status="approved",
            closed_at=at("2026-11-03 12:00:00"),
            closed_by=people["compliance"],
        ),
        # R2: rejected on the last second of November: 20 d 14:59:59 = 494.9997 h.
        _request(
            policy,
            people,
            a2,
            assessments[2],
            "2026-11-10 09:00:00",
            status="rejected",
            closed_at=at("2026-11-30 23:59:59"),
            closed_by=people["owner"],
            close_reason="Needs a bias review.",
        ),
        # R3: approved on the first instant of December: not decided in
        # November, pending at its end; a 38 h cycle in December.
        _request(
            policy,
            people,
            a2,
            assessments[2],
            "2026-11-29 10:00:00",
            status="approved",
            closed_at=at("2026-12-01 00:00:00"),
            closed_by=people["owner"],
        ),
        # R4: submitted in October, withdrawn in November.
        _request(
            policy,
            people,
            a1,
            assessments[0],
            "2026-10-20 09:00:00",
            status="withdrawn",
            closed_at=at("2026-11-02 09:00:00"),
            closed_by=people["scientist"],
            risk_level="high",
            mitigation_plan="Weekly bias review.",
        ),
        # R5: all in October.
        _request(
            policy,
            people,
            a1,
            assessments[0],
            "2026-10-25 09:00:00",
            status="rejected",
            closed_at=at("2026-10-30 09:00:00"),
            closed_by=people["owner"],
        ),
    )
    _insert(
        engine,
        ApprovalDecision(
            request_id=requests[0],
            approver_id=people["owner"],
            role="model_owner",
            decision="approved",
            comment="Fine.",
            decided_at=at("2026-11-02 10:00:00"),
        ),
        ApprovalDecision(
            request_id=requests[0],
            approver_id=people["compliance"],
            role="compliance_officer",
            decision="approved",
            comment="Compliant.",
            decided_at=at("2026-11-03 12:00:00"),
        ),
    )
    incidents = _insert(
        engine,
        _incident(people, a1, "performance", "high", "2026-11-15 10:00:00"),
        # Reported in October, closed in November.
        _incident(
            people, a1, "bias", "medium", "2026-10-10 10:00:00", "2026-11-20 10:00:00"
        ),
        # Reported on November's last evening, closed in December: open at its end.
        _incident(
            people, a2, "security", "low", "2026-11-30 23:00:00", "2026-12-01 01:00:00"
        ),
        # December.
        _incident(people, a2, "performance", "low", "2026-12-01 00:00:00"),
    )
    _insert(
        engine,
        IncidentStep(
            incident_id=incidents[0],
            position=1,
            step="detect",
            status="done",
            done_by=people["engineer"],
            done_at=at("2026-11-15 11:00:00"),
        ),
        IncidentStep(incident_id=incidents[0], position=2, step="investigate"),
    )
    (retraining,) = _insert(
        engine,
        RetrainingRequest(
            model_name="alpha",
            model_version_id=a1,
            reason="Drift.",
            opened_by=SYSTEM_USER_ID,
            opened_at=at("2026-11-12 06:00:00"),
        ),
    )
    _insert(
        engine,
        RetrainingTrigger(
            model_version_id=a1,
            kind="data_drift",
            subject="visits",
            value=0.31,
            threshold=0.25,
            description="PSI above 0.25.",
            request_id=retraining,
            fired_at=at("2026-11-12 06:00:00"),
        ),
        RetrainingTrigger(
            model_version_id=a1,
            kind="performance_drop",
            subject="auc",
            value=0.12,
            threshold=0.10,
            description="AUC dropped.",
            request_id=retraining,
            fired_at=at("2026-12-01 00:00:00"),
        ),
    )
    # Everyone joined on 1 September, so on 30 November every course is overdue
    # except the one the data scientist completed on 1 October.
    with write_session(engine) as session:
        session.execute(
            update(RoleAssignment).values(granted_at=at("2026-09-01 08:00:00"))
        )
    _insert(
        engine,
        TrainingCompletion(
            user_id=people["scientist"],
            course="ml_governance_framework",
            completed_on=date(2026, 10, 1),
            recorded_by=people["scientist"],
        ),
    )
    # alpha 1 is in production: its checklists are reported.
    with write_session(engine) as session:
        session.execute(
            update(ModelVersion)
            .where(col(ModelVersion.id) == a1)
            .values(stage="production")
        )
    return {"a1": a1, "a2": a2, "b1": b1, "requests": requests}


@pytest.fixture
def november(engine, policy, store):
    period = report_period(policy, "monthly_compliance", NOVEMBER, today=NOW.date())
    return build_report(
        engine, policy, kind="monthly_compliance", period=period, now=NOW
    )


def test_models_and_risk_levels_are_the_latest_assessment_before_the_end(november):
    rows = {(row.model, row.version): row for row in november.versions}

    assert set(rows) == {("alpha", "1"), ("alpha", "2"), ("beta", "1")}
    assert rows["alpha", "1"].risk_level == "medium"
    assert rows["alpha", "1"].risk_score == pytest.approx(0.5)
    assert rows["alpha", "2"].risk_level == "low"
    assert rows["beta", "1"].risk_level is None
    assert november.risk_levels == {"high": 0, "medium": 1, "low": 1, "unassessed": 1}


def test_approvals_and_cycle_times_are_counted_by_hand(november):
    approvals = november.approvals

    assert approvals.submitted == 3  # R1, R2, R3
    assert (approvals.approved, approvals.rejected, approvals.withdrawn) == (1, 1, 1)
    assert approvals.pending_at_end == 1  # R3
    r2_hours = (20 * 24 + 14) + 59 / 60 + 59 / 3600
    assert approvals.cycle.decided == 2
    assert approvals.cycle.min_hours == pytest.approx(60.0, abs=1e-3)
    assert approvals.cycle.max_hours == pytest.approx(r2_hours, abs=1e-3)
    assert approvals.cycle.mean_hours == pytest.approx((60 + r2_hours) / 2, abs=1e-3)
    by_id = {row.request_id: row for row in approvals.rows}
    assert by_id[min(by_id)].cycle_hours == pytest.approx(60.0, abs=1e-3)
    # R1-R4 are listed (R5 lies wholly in October); R3 is still open in November.
    assert len(approvals.rows) == 4


def test_an_approval_on_the_last_day_is_in_that_month_not_the_next(
    engine, policy, store
):
    def decided(label):
        period = period_of("monthly", label, today=NOW.date())
        report = build_report(
            engine, policy, kind="monthly_compliance", period=period, now=NOW
        )
        return report.approvals

    november, december = decided("2026-11"), decided("2026-12")

    assert november.rejected == 1  # R2, closed 30 Nov 23:59:59
    assert december.rejected == 0
    assert november.approved == 1  # R1 only; R3 closed 1 Dec 00:00
    assert december.approved == 1  # R3
    assert december.cycle.mean_hours == pytest.approx(38.0, abs=1e-3)
    assert november.submitted == 3  # R1 at 1 Nov 00:00 counts in November
    assert decided("2026-10").submitted == 2  # R4, R5; not R1


def test_incidents_of_the_period(november):
    incidents = november.incidents

    assert incidents.reported == 2  # the high performance and the security one
    assert incidents.closed == 1  # the October bias incident
    assert incidents.open_at_end == 2
    assert incidents.by_kind == {"performance": 1, "security": 1}
    assert incidents.by_severity == {"high": 1, "low": 1}
    steps = {row.kind: (row.steps_done, row.steps_total) for row in incidents.rows}
    assert steps == {"performance": (1, 2), "bias": (0, 0), "security": (0, 0)}


def test_triggers_of_the_period(november):
    assert november.triggers.fired == 1
    assert november.triggers.by_kind == {"data_drift": 1}
    assert november.triggers.rows[0].subject == "visits"


def test_training_compliance_on_the_last_day(engine, policy, november):
    training = november.training.compliance

    assert training.on == date(2026, 11, 30)
    assert training.members == 6
    assert training.members_overdue == 6
    assert training.overdue_total == 6 * 4 - 1
    assert training == training_compliance(engine, policy, date(2026, 11, 30))
    assert len(november.training.overdue) == 23


def test_checklist_status_of_versions_in_production(engine, store, november):
    (row,) = november.checklists
    items = pre_deployment_checklist(engine, store["a1"])

    assert (row.model, row.version, row.stage) == ("alpha", "1", "production")
    # Met: performance, bias, explainability, risk assessment, approval (R1).
    assert (row.pre_done, row.pre_total) == (5, 9)
    assert row.pre_done == sum(item.is_done for item in items)
    assert (row.post_done, row.post_total) == (0, 6)
    assert november.compliance_rate == 0.0


def test_quarterly_report_shows_risk_movements_and_factors(engine, policy, store):
    period = report_period(policy, "quarterly_risk", "2026-Q4", today=NOW.date())
    report = build_report(engine, policy, kind="quarterly_risk", period=period, now=NOW)

    assert (period.start, period.end) == (date(2026, 10, 1), date(2027, 1, 1))
    moves = {
        (m.model, m.version): (m.level_at_start, m.level_at_end)
        for m in report.movements
    }
    assert moves == {
        ("alpha", "1"): ("unassessed", "medium"),
        ("alpha", "2"): ("unassessed", "high"),
    }
    factors = {(f.model, f.version): f.factors for f in report.factors}
    assert factors["alpha", "2"]["bias"] == pytest.approx(0.9)
    titles = [section.heading for section in report_document(report).sections]
    assert "Risk level changes in the period" in titles


def html_text(page: str) -> str:
    """The text a browser shows of ``page``, white space collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _pdf_text(tmp_path: Path, content: bytes) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return " ".join(text.split())


def test_generated_report_files_say_the_numbers_and_match_their_digests(
    settings, engine, policy, people, store, tmp_path
):
    stored = generate_report(
        settings,
        engine,
        policy,
        actor_id=people["compliance"],
        kind="monthly_compliance",
        period=NOVEMBER,
        now=NOW,
    )

    pdf, page = report_file(stored, "pdf"), report_file(stored, "html").decode()
    assert hashlib.sha256(pdf).hexdigest() == stored.pdf_sha256
    assert (
        hashlib.sha256(stored.html_path.read_bytes()).hexdigest() == stored.html_sha256
    )
    assert stored.html_path.parent == settings.evidence_dir / "reports"
    assert (stored.period_start, stored.period_end) == (
        date(2026, 11, 1),
        date(2026, 11, 30),
    )
    text = _pdf_text(tmp_path, pdf)
    for expected in (
        "Compliance report 2026-11",
        "Requests approved: 1",
        "Requests rejected: 1",
        "Cycle time, mean: 277.5 h",
        "Cycle time, shortest: 60.0 h",
        "Cycle time, longest: 495.0 h",
        "Incidents reported: 2",
        "Open at the period's end: 2",
        "Versions at medium risk: 1",
        "Versions not assessed: 1",
        "Monitoring triggers fired: 1",
        "Team members overdue on training: 6 of 6",
    ):
        assert expected in text, expected
        assert expected in html_text(page), expected


def test_html_carries_text_from_the_records_inert(engine, policy, people, store):
    name = "<img src=x onerror=alert(1)>"
    _insert(engine, GovernedModel(name=name, owner_id=people["owner"]))
    _insert(engine, _version(policy, people, name, "1", "2026-11-02 08:00:00"))
    period = period_of("monthly", NOVEMBER, today=NOW.date())
    doc = report_document(
        build_report(engine, policy, kind="monthly_compliance", period=period, now=NOW)
    )

    page = render_html(doc)

    assert "<img" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_regenerating_a_period_keeps_a_new_report_and_never_overwrites(
    settings, engine, policy, people, store
):
    args = {"actor_id": people["compliance"], "kind": "monthly_compliance"}
    first = generate_report(settings, engine, policy, period=NOVEMBER, now=NOW, **args)
    first_pdf = first.pdf_path.read_bytes()

    second = generate_report(settings, engine, policy, period=NOVEMBER, now=NOW, **args)

    assert second.id != first.id
    assert second.pdf_path != first.pdf_path
    assert first.pdf_path.read_bytes() == first_pdf
    assert [r.id for r in list_reports(engine, kinds=["monthly_compliance"])] == [
        second.id,
        first.id,
    ]


def test_generation_is_audited_with_the_digests(
    settings, engine, policy, people, store
):
    stored = generate_report(
        settings,
        engine,
        policy,
        actor_id=people["compliance"],
        kind="quarterly_risk",
        period="2026-Q4",
        now=NOW,
    )

    with read_session(engine) as session:
        event = session.exec(
            select(AuditEvent).where(AuditEvent.action == "report.generated")
        ).one()
    payload = json.loads(event.payload)
    assert (event.entity_type, event.entity_id) == ("compliance_report", str(stored.id))
    assert event.actor_id == people["compliance"]
    assert payload["pdf_sha256"] == stored.pdf_sha256
    assert payload["html_sha256"] == stored.html_sha256
    assert payload["period_start"] == "2026-10-01"
    assert verify_chain(engine).is_intact


@pytest.mark.parametrize("who", ["owner", "scientist", "engineer", "security", "admin"])
def test_only_a_compliance_officer_generates(settings, engine, policy, people, who):
    with pytest.raises(PermissionDeniedError, match="Compliance officer"):
        generate_report(
            settings,
            engine,
            policy,
            actor_id=people[who],
            kind="monthly_compliance",
            period=NOVEMBER,
        )

    with read_session(engine) as session:
        assert session.exec(select(ComplianceReport)).all() == []
        denied = session.exec(
            select(AuditEvent).where(AuditEvent.action == "access.denied")
        ).all()
    assert [event.actor_id for event in denied] == [people[who]]
    assert json.loads(denied[0].payload)["attempted"] == "report.generate"
    assert not (settings.evidence_dir / "reports").exists()


def test_a_changed_file_is_refused(settings, engine, policy, people, store):
    stored = generate_report(
        settings,
        engine,
        policy,
        actor_id=people["compliance"],
        kind="monthly_compliance",
        period=NOVEMBER,
        now=NOW,
    )
    stored.html_path.write_text("<p>edited</p>", encoding="utf-8")

    with pytest.raises(ReportIntegrityError, match="no longer matches"):
        report_file(get_report(engine, stored.id), "html")
    assert report_file(stored, "pdf")


@pytest.mark.parametrize(
    ("cadence", "text", "start", "end"),
    [
        ("monthly", "2026-11", date(2026, 11, 1), date(2026, 12, 1)),
        ("monthly", "2026-12", date(2026, 12, 1), date(2027, 1, 1)),
        ("monthly", None, date(2026, 12, 1), date(2027, 1, 1)),
        ("quarterly", "2026-q1", date(2026, 1, 1), date(2026, 4, 1)),
        ("quarterly", "2026-11", date(2026, 10, 1), date(2027, 1, 1)),
        ("annually", "2025", date(2025, 1, 1), date(2026, 1, 1)),
        ("weekly", "2026-W49", date(2026, 11, 30), date(2026, 12, 7)),
        ("daily", "2026-02-28", date(2026, 2, 28), date(2026, 3, 1)),
        ("monthly", "previous", date(2026, 11, 1), date(2026, 12, 1)),
        ("quarterly", "previous", date(2026, 7, 1), date(2026, 10, 1)),
        ("annually", "Previous", date(2025, 1, 1), date(2026, 1, 1)),
        ("weekly", "previous", date(2026, 11, 23), date(2026, 11, 30)),
    ],
    ids=[
        "month",
        "december",
        "this-month",
        "quarter",
        "quarter-of-month",
        "year",
        "week",
        "day",
        "previous-month",
        "previous-quarter",
        "previous-year",
        "previous-week",
    ],
)
def test_periods(cadence, text, start, end):
    period = period_of(cadence, text, today=date(2026, 12, 3))

    assert (period.start, period.end) == (start, end)


def test_a_period_in_the_future_is_refused(settings, engine, policy, people):
    with pytest.raises(WorkflowBlockedError, match="2027-01 has not begun"):
        generate_report(
            settings,
            engine,
            policy,
            actor_id=people["compliance"],
            kind="monthly_compliance",
            period="2027-01",
            now=NOW,
        )


@pytest.mark.parametrize(
    ("cadence", "text"),
    [("monthly", "2026-13"), ("monthly", "November"), ("quarterly", "2026-Q5")],
)
def test_a_malformed_period_is_refused_with_its_form(cadence, text):
    with pytest.raises(InvalidInputError, match="write it as"):
        period_of(cadence, text, today=date(2026, 12, 3))


def test_cli_generates_and_prints_where_the_files_are(
    settings, engine, people, store, monkeypatch, capsys
):
    monkeypatch.setenv("GOVERNANCE_HOME", str(settings.home))
    monkeypatch.setenv("GOVERNANCE_DATABASE_URL", settings.database_url)

    code = main(["report", "monthly", "--period", NOVEMBER, "--as", "compliance"])

    out = capsys.readouterr().out
    assert code == 0
    (stored,) = list_reports(engine)
    assert str(stored.pdf_path) in out
    assert str(stored.html_path) in out
    assert stored.title == "Compliance report 2026-11"


def test_cli_refuses_someone_without_the_role(
    settings, engine, people, monkeypatch, capsys
):
    monkeypatch.setenv("GOVERNANCE_HOME", str(settings.home))
    monkeypatch.setenv("GOVERNANCE_DATABASE_URL", settings.database_url)

    code = main(["report", "quarterly", "--as", "scientist"])

    assert code == 2
    assert "Compliance officer" in capsys.readouterr().err


def test_two_officers_generating_at_once_keep_two_reports(
    settings, engine, policy, people, store
):
    def generate(_):
        return generate_report(
            settings,
            engine,
            policy,
            actor_id=people["compliance"],
            kind="monthly_compliance",
            period=NOVEMBER,
            now=NOW,
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        kept = list(pool.map(generate, range(2)))

    assert len({report.id for report in kept}) == 2
    assert len({report.pdf_path for report in kept}) == 2
    for report in kept:
        assert report_file(report, "pdf")
        assert report.file_stem == f"{report.id}-monthly_compliance-2026-11"
    assert verify_chain(engine).is_intact
