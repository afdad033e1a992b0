"""Per-version documents of an approved and of a rejected version.

Both versions go through the real workflow (documentation, reviews, security
assessment, compliance sign-offs, a request and the approvers' decisions), so the
documents are compared with what the workflow recorded.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from governance.audit import verify_chain
from governance.cli import main
from governance.errors import NotFoundError, PermissionDeniedError, WorkflowBlockedError
from governance.records import templates as tpl
from governance.records.documents import build_document, generate_document
from governance.records.rendering import Facts, Table
from governance.records.stored import list_reports, report_file
from governance.store import read_session
from governance.tables import AuditEvent, ModelVersion
from governance.workflow import (
    approve_request,
    get_request,
    reject_request,
    request_approval,
)
from governance.workflow_tables import ApprovalRequest
from tests.workflow.conftest import REQUEST, register, walk_to_approval

REJECTION = "The nationality disparity needs mitigating first."


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    folder = tmp_path / "artifacts"
    folder.mkdir()
    (folder / "model.pkl").write_bytes(pickle.dumps({"weights": [0.1, 0.2]}))
    return folder


@pytest.fixture
def decided(engine, people, policy, artifacts):
    """lead-scoring 1 approved by three approvers; churn 1 rejected by its owner."""
    approved = register(engine, people, policy)
    walk_to_approval(engine, people, policy, approved, artifacts, level="high")
    request = request_approval(
        engine,
        actor_id=people["scientist"],
        policy=policy,
        version_id=approved,
        **REQUEST,
    )
    for who in ("owner", "compliance", "security"):
        approve_request(
            engine,
            actor_id=people[who],
            request_id=request,
            expected_row_version=get_request(engine, request).row_version,
            comment=f"Approved by {who}.",
        )

    rejected = register(engine, people, policy, name="churn")
    walk_to_approval(engine, people, policy, rejected, artifacts, level="low")
    refused = request_approval(
        engine,
        actor_id=people["scientist"],
        policy=policy,
        version_id=rejected,
        **{**REQUEST, "mitigation_plan": None},
    )
    reject_request(
        engine,
        actor_id=people["owner"],
        request_id=refused,
        expected_row_version=get_request(engine, refused).row_version,
        comment=REJECTION,
    )
    return {"approved": approved, "rejected": rejected}


def _facts(doc, heading) -> dict[str, str]:
    section = next(s for s in doc.sections if s.heading == heading)
    return {
        label: value
        for block in section.blocks
        if isinstance(block, Facts)
        for label, value in block.items
    }


def _tables(doc, heading) -> list[Table]:
    section = next(s for s in doc.sections if s.heading == heading)
    return [block for block in section.blocks if isinstance(block, Table)]


def _headings(doc) -> list[str]:
    return [section.heading for section in doc.sections]


def test_approval_record_of_the_approved_version(engine, people, policy, decided):
    doc = build_document(
        engine, policy, version_id=decided["approved"], kind="approval_record"
    )

    template = tpl.approval_request_template(policy)
    assert _headings(doc) == [part.heading for part in template.parts]
    request = _facts(doc, tpl.REQUEST_PART)
    assert request["Purpose"] == REQUEST["purpose"]
    assert request["Risk mitigation plan"] == REQUEST["mitigation_plan"]
    binding = _facts(doc, tpl.BINDING_PART)
    assert binding["Risk level"] == "high"
    assert binding["Required approvers"] == (
        "Model owner, Compliance officer, Security officer"
    )
    outcome = _facts(doc, tpl.DECISIONS_PART)
    assert outcome["Status"] == "approved"
    decisions = _tables(doc, tpl.DECISIONS_PART)[0]
    assert [(row[0], row[2], row[3]) for row in decisions.rows] == [
        ("Owner", "approved", "Approved by owner."),
        ("Compliance", "approved", "Approved by compliance."),
        ("Security", "approved", "Approved by security."),
    ]


def test_approval_record_of_the_rejected_version(engine, people, policy, decided):
    doc = build_document(
        engine, policy, version_id=decided["rejected"], kind="approval_record"
    )

    outcome = _facts(doc, tpl.DECISIONS_PART)
    assert outcome["Status"] == "rejected"
    assert outcome["Reason"] == REJECTION
    (decision,) = _tables(doc, tpl.DECISIONS_PART)[0].rows
    assert decision[:3] == ("Owner", "Model owner", "rejected")
    assert _facts(doc, tpl.REQUEST_PART)["Risk mitigation plan"] == "-"
    assert "stage development" in doc.subtitle


def test_risk_assessment_report_follows_the_template(engine, people, policy, decided):
    doc = build_document(
        engine, policy, version_id=decided["approved"], kind="risk_assessment_report"
    )

    template = tpl.risk_assessment_template(policy)
    assert _headings(doc) == [part.heading for part in template.parts]
    assert _facts(doc, tpl.LEVEL_PART)["Risk level"] == "high"
    security = _facts(doc, tpl.SECURITY_PART)
    assert security["Result"] == "passed"
    assert security["Security risk score"] == "0.00"
    questionnaire = _tables(doc, tpl.SECURITY_PART)[0]
    assert [row[0] for row in questionnaire.rows] == [
        field.title for field in template.part(tpl.SECURITY_PART).fields
    ]
    assert {row[1] for row in questionnaire.rows} == {"yes"}
    standards = _tables(doc, tpl.STANDARDS_PART)[0]
    assert standards.rows[0][:4] == ("auc", "0.81", "0.75", "met")
    mitigation = next(s for s in doc.sections if s.heading == tpl.MITIGATION_PART)
    assert REQUEST["mitigation_plan"] in [b.text for b in mitigation.blocks]


def test_compliance_validation_report_of_both_versions(engine, people, policy, decided):
    approved = build_document(
        engine,
        policy,
        version_id=decided["approved"],
        kind="compliance_validation_report",
    )
    rejected = build_document(
        engine,
        policy,
        version_id=decided["rejected"],
        kind="compliance_validation_report",
    )

    template = tpl.compliance_checklist_template(policy)
    assert _headings(approved) == [part.heading for part in template.parts]
    signed = _tables(approved, tpl.COMPLIANCE_PART)[0]
    assert [row[1] for row in signed.rows] == [
        "Compliance validation",
        "Documentation review",
        "Audit trail verification",
        "Regulatory compliance check",
    ]
    assert {row[2] for row in signed.rows} == {"Compliance"}
    assert signed.rows[3][5] == "Regulations: GDPR"
    pre = _tables(approved, tpl.PRE_PART)[0]
    assert [row[0] for row in pre.rows] == [
        field.title for field in template.part(tpl.PRE_PART).fields
    ]
    assert {row[1] for row in pre.rows} == {"yes"}
    # The rejection opened cycle 2: its sign-offs are asked for again.
    status = [
        block.text
        for block in next(
            s for s in rejected.sections if s.heading == tpl.COMPLIANCE_PART
        ).blocks
        if hasattr(block, "text")
    ]
    assert status == [
        "Missing in the current cycle (2): Compliance validation, Documentation "
        "review, Audit trail verification, Regulatory compliance check."
    ]
    assert len(_tables(rejected, tpl.COMPLIANCE_PART)[0].rows) == 4


def _pdf_text(tmp_path: Path, content: bytes) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "document.pdf"
    path.write_bytes(content)
    return " ".join(
        subprocess.run(
            ["pdftotext", "-layout", str(path), "-"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
    )


@pytest.mark.parametrize(
    "kind",
    ["risk_assessment_report", "compliance_validation_report", "approval_record"],
)
def test_documents_are_kept_with_digests_and_audited(
    settings, engine, people, policy, decided, kind, tmp_path
):
    stored = generate_document(
        settings,
        engine,
        policy,
        actor_id=people["compliance"],
        model="lead-scoring",
        version="1",
        kind=kind,
    )

    assert (stored.kind, stored.model_version_id) == (kind, decided["approved"])
    pdf = report_file(stored, "pdf")
    assert hashlib.sha256(pdf).hexdigest() == stored.pdf_sha256
    html = stored.html_path.read_bytes()
    assert hashlib.sha256(html).hexdigest() == stored.html_sha256
    text = _pdf_text(tmp_path, pdf)
    assert "lead-scoring version 1" in text
    with read_session(engine) as session:
        event = session.exec(
            select(AuditEvent).where(AuditEvent.action == "report.generated")
        ).one()
    payload = json.loads(event.payload)
    assert (payload["kind"], payload["model_version_id"]) == (kind, decided["approved"])
    assert payload["pdf_sha256"] == stored.pdf_sha256
    assert verify_chain(engine).is_intact


def test_approval_record_pdf_says_who_decided(
    settings, engine, people, policy, decided, tmp_path
):
    stored = generate_document(
        settings,
        engine,
        policy,
        actor_id=people["compliance"],
        model="churn",
        version="1",
        kind="approval_record",
    )

    text = _pdf_text(tmp_path, report_file(stored, "pdf"))
    assert "Status: rejected" in text
    assert f"Reason: {REJECTION}" in text
    assert f"Purpose: {REQUEST['purpose']}" in text


@pytest.mark.parametrize("who", ["owner", "scientist", "security", "admin"])
def test_only_a_compliance_officer_keeps_documents(
    settings, engine, people, policy, decided, who
):
    with pytest.raises(PermissionDeniedError):
        generate_document(
            settings,
            engine,
            policy,
            actor_id=people[who],
            model="lead-scoring",
            version="1",
            kind="approval_record",
        )

    assert list_reports(engine) == []


def test_a_version_without_records_cannot_have_its_documents_yet(
    settings, engine, people, policy
):
    version_id = register(engine, people, policy)

    for kind in ("risk_assessment_report", "approval_record"):
        with pytest.raises(WorkflowBlockedError, match="has no"):
            build_document(engine, policy, version_id=version_id, kind=kind)
    with pytest.raises(NotFoundError, match="No version '9'"):
        generate_document(
            settings,
            engine,
            policy,
            actor_id=people["compliance"],
            model="lead-scoring",
            version="9",
            kind="approval_record",
        )


def test_cli_keeps_a_document_and_prints_its_files(
    settings, engine, people, policy, decided, monkeypatch, capsys
):
    monkeypatch.setenv("GOVERNANCE_HOME", str(settings.home))
    monkeypatch.setenv("GOVERNANCE_DATABASE_URL", settings.database_url)

    code = main(
        [
            "report",
            "document",
            "--model",
            "churn",
            "--version",
            "1",
            "--kind",
            "approval_record",
            "--as",
            "compliance",
        ]
    )

    out = capsys.readouterr().out
    assert code == 0
    (stored,) = list_reports(engine)
    assert str(stored.pdf_path) in out
    with read_session(engine) as session:
        version = session.get(ModelVersion, stored.model_version_id)
        assert (version.model_name, version.version) == ("churn", "1")


@pytest.mark.slow
@pytest.mark.xdist_group("demo")
def test_the_demos_approved_and_rejected_versions(assessed_demo):
    from governance.bootstrap import prepare_store
    from governance.records.reports import build_report, period_of

    engine, policy = prepare_store(assessed_demo)
    try:
        with read_session(engine) as session:
            ids = {
                row.version: row.id
                for row in session.exec(
                    select(ModelVersion).where(
                        ModelVersion.model_name == "lead-scoring"
                    )
                )
            }
        approved = build_document(
            engine, policy, version_id=ids["2"], kind="approval_record"
        )
        rejected = build_document(
            engine, policy, version_id=ids["3"], kind="approval_record"
        )
        risk = build_document(
            engine, policy, version_id=ids["3"], kind="risk_assessment_report"
        )
        # The monthly report of the month each decision closed in counts it.
        with read_session(engine) as session:
            closed = {
                row.model_version_id: row.closed_at
                for row in session.exec(select(ApprovalRequest))
            }
        reports = {
            version: build_report(
                engine,
                policy,
                kind="monthly_compliance",
                period=period_of(
                    "monthly",
                    f"{closed[ids[version]]:%Y-%m}",
                    today=datetime.now(UTC).date(),
                ),
            )
            for version in ("2", "3")
        }
    finally:
        engine.dispose()

    assert _facts(approved, tpl.DECISIONS_PART)["Status"] == "approved"
    assert _facts(rejected, tpl.DECISIONS_PART)["Status"] == "rejected"
    assert "nationality" in _facts(rejected, tpl.DECISIONS_PART)["Reason"]
    parity = [
        row[3]
        for row in _tables(risk, tpl.STANDARDS_PART)[0].rows
        if row[0].startswith("demographic_parity_difference")
    ]
    assert "not met" in parity
    assert ("lead-scoring", "2", "production") in {
        (row.model, row.version, row.stage) for row in reports["2"].checklists
    }
    assert reports["2"].approvals.approved >= 1
    assert reports["3"].approvals.rejected >= 1


def test_approval_record_of_a_pending_request_says_who_is_awaited(
    engine, people, policy, artifacts
):
    version_id = register(engine, people, policy)
    walk_to_approval(engine, people, policy, version_id, artifacts, level="high")
    request = request_approval(
        engine,
        actor_id=people["scientist"],
        policy=policy,
        version_id=version_id,
        **REQUEST,
    )
    approve_request(
        engine,
        actor_id=people["owner"],
        request_id=request,
        expected_row_version=get_request(engine, request).row_version,
    )

    doc = build_document(engine, policy, version_id=version_id, kind="approval_record")

    outcome = _facts(doc, tpl.DECISIONS_PART)
    assert outcome["Status"] == "pending"
    assert outcome["Waiting for"] == "Compliance officer, Security officer"
    assert outcome["Cycle time"] == "-"
