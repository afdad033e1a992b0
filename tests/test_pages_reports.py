"""The compliance reports page (AppTest, demo mode, demo people)."""

from sqlmodel import select

from governance.records.stored import list_reports
from governance.store import read_session
from governance.tables import AuditEvent
from tests.app_support import open_page, person
from tests.workflow.conftest import register

REPORTS = "views/reports.py"
DEMO = {"scientist": person("omar"), "owner": person("layla")}


def _downloads(app) -> list[str]:
    return [button.proto.label for button in app.get("download_button")]


def _click(app, key):
    app.button(key=key).click().run()
    assert not app.exception, app.exception
    return app


def test_a_compliance_officer_generates_and_downloads_the_report(app_store):
    engine, _ = app_store

    app = open_page("daniel", REPORTS)
    app.text_input(key="report_period").input("2026-11")
    _click(app, "FormSubmitter:report_generate-Generate and keep")

    assert [item.value for item in app.success] == [
        "Report generated and kept; download it below."
    ]
    (stored,) = list_reports(engine)
    assert stored.title == "Compliance report 2026-11"
    assert stored.created_by == person("daniel")
    # HTML and PDF of the report, then Markdown and PDF of three templates.
    assert _downloads(app) == ["HTML", "PDF"] + ["Markdown", "PDF"] * 3
    assert app.dataframe[0].value["Title"].tolist() == ["Compliance report 2026-11"]
    with read_session(engine) as session:
        events = session.exec(
            select(AuditEvent).where(AuditEvent.action == "report.generated")
        ).all()
    assert [event.entity_id for event in events] == [str(stored.id)]


def test_a_quarterly_risk_assessment_from_the_page(app_store):
    engine, _ = app_store

    app = open_page("daniel", REPORTS)
    app.selectbox(key="report_kind").set_value("quarterly_risk")
    app.text_input(key="report_period").input("2026-Q4")
    _click(app, "FormSubmitter:report_generate-Generate and keep")

    (stored,) = list_reports(engine)
    assert stored.title == "Risk assessment 2026-Q4"


def test_a_malformed_period_is_shown_not_raised(app_store):
    app = open_page("daniel", REPORTS)
    app.text_input(key="report_period").input("November")
    _click(app, "FormSubmitter:report_generate-Generate and keep")

    assert "write it as YYYY-MM" in app.error[0].value


def test_people_without_the_role_read_but_do_not_generate(app_store):
    app = open_page("daniel", REPORTS)
    _click(app, "FormSubmitter:report_generate-Generate and keep")

    app = open_page("omar", REPORTS)

    assert not [f for f in app.get("form") if f.proto.form_id == "report_generate"]
    assert "Compliance officers generate reports" in app.caption[0].value
    assert _downloads(app)[:2] == ["HTML", "PDF"]


def test_a_document_per_version_from_the_page(app_store):
    engine, policy = app_store
    version_id = register(engine, DEMO, policy)

    app = open_page("daniel", REPORTS, model_name="lead-scoring", version_name="1")
    app.selectbox(key="report_document_kind").set_value("compliance_validation_report")
    _click(app, "report_document")

    (stored,) = list_reports(engine)
    assert (stored.kind, stored.model_version_id) == (
        "compliance_validation_report",
        version_id,
    )
    assert (
        app.success[0].value == "Compliance validation report of lead-scoring 1 kept."
    )
    assert _downloads(app)[:2] == ["HTML", "PDF"]


def test_a_document_the_records_cannot_support_yet_is_explained(app_store):
    engine, policy = app_store
    register(engine, DEMO, policy)

    app = open_page("daniel", REPORTS, model_name="lead-scoring", version_name="1")
    app.selectbox(key="report_document_kind").set_value("approval_record")
    _click(app, "report_document")

    assert "has no approval request" in app.error[0].value
    assert list_reports(engine) == []


def test_a_tampered_file_is_refused_on_the_page(app_store):
    engine, _ = app_store
    app = open_page("daniel", REPORTS)
    _click(app, "FormSubmitter:report_generate-Generate and keep")
    (stored,) = list_reports(engine)
    stored.pdf_path.write_bytes(b"%PDF-1.3 forged")

    app = open_page("daniel", REPORTS)

    assert "no longer matches its recorded SHA-256" in app.error[0].value
    assert _downloads(app) == ["Markdown", "PDF"] * 3
