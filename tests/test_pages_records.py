"""The retention page (holds, purge, archives, backup) and the erasure action."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from governance.audit import unit_of_work
from governance.audit_records_tables import LegalHold
from governance.inventory import register_version
from governance.records.retention import retire_model
from governance.records_tables import ComplianceReport
from governance.settings import load_settings
from governance.tables import User
from tests.app_support import open_page, person

RECORDS_PAGE = "views/records.py"
PEOPLE_PAGE = "views/people.py"


def _old_report(engine) -> int:
    with unit_of_work(engine) as work:
        report = ComplianceReport(
            kind="monthly_compliance",
            title="Compliance report 2018-01",
            html_path="reports/old.html",
            pdf_path="reports/old.pdf",
            html_sha256="a" * 64,
            pdf_sha256="b" * 64,
            policy_version="1.0.0",
            created_by=person("daniel"),
            created_at=datetime.now(UTC) - timedelta(days=8 * 366),
        )
        work.session.add(report)
        work.session.flush()
        work.record(
            actor_id=person("daniel"),
            action="report.generated",
            entity_type="compliance_report",
            entity_id=str(report.id),
        )
        assert report.id is not None
        return report.id


def _table(app, column: str):
    return next(frame.value for frame in app.dataframe if column in frame.value)


def test_status_table_lists_every_record_class(app_store):
    app = open_page("layla", RECORDS_PAGE)

    assert app.title[0].value == "Retention and backup"
    table = _table(app, "Record class")
    assert list(table["Record class"]) == [
        "Audit log",
        "Compliance reports",
        "Retired models",
        "Active models",
    ]
    assert list(table["Kept (years)"]) == [7, 7, 7, 7]
    assert app.text[0].value.startswith("Nothing is past retention")
    assert "records_purge" not in [button.key for button in app.button]
    assert app.main.caption[-2].value.startswith("A compliance officer")


def test_compliance_officer_places_and_releases_a_hold(app_store):
    engine, _ = app_store
    app = open_page("daniel", RECORDS_PAGE)

    app.selectbox[0].select("audit_log")
    app.text_input(key="records_reason").input("Regulator inquiry 2026-7")
    app.button[0].click().run()

    assert not app.exception
    assert app.success[0].value == "Legal hold placed."
    assert list(_table(app, "Reason")["Reason"]) == ["Regulator inquiry 2026-7"]
    app.text_input(key="records_release_reason").input("Inquiry closed")
    app.button(key="records_release").click().run()
    with Session(engine) as session:
        hold = session.exec(select(LegalHold)).one()
    assert hold.released_by == person("daniel")
    assert hold.release_reason == "Inquiry closed"


def test_purge_needs_confirmation_and_reports_the_verified_chain(app_store):
    engine, _ = app_store
    report_id = _old_report(engine)
    app = open_page("daniel", RECORDS_PAGE)

    assert "1 compliance reports are past retention" in app.text[0].value
    assert app.button(key="records_purge").disabled
    app.checkbox(key="records_confirm").check().run()
    app.button(key="records_purge").click().run()

    assert not app.exception
    assert app.success[0].value.startswith("Purge 1 done. Audit chain intact")
    with Session(engine) as session:
        assert session.get(ComplianceReport, report_id) is None


def test_archives_of_retired_models_can_be_downloaded(app_store):
    engine, policy = app_store
    register_version(
        engine,
        actor_id=person("omar"),
        policy=policy,
        name="churn",
        version="1",
        model_uri="models:/churn/1",
        owner_id=person("layla"),
    )
    retire_model(
        load_settings(),
        engine,
        policy,
        actor_id=person("layla"),
        model_name="churn",
        reason="replaced",
    )

    app = open_page("layla", RECORDS_PAGE)

    assert app.text[-1].value.startswith("churn: evidence/archives/churn-")
    assert len(app.get("download_button")) == 1


def test_administrator_takes_a_backup(app_store):
    app = open_page("admin", RECORDS_PAGE)

    app.button(key="records_backup").click().run()

    assert not app.exception
    assert "audit events, head #" in app.success[0].value
    assert len(list((load_settings().home / "backups").glob("governance-*.db"))) == 1


def test_backup_is_not_offered_to_others(app_store):
    app = open_page("daniel", RECORDS_PAGE)

    assert "records_backup" not in [button.key for button in app.button]


def test_administrator_erases_a_person_after_confirming(app_store):
    engine, _ = app_store
    app = open_page("admin", PEOPLE_PAGE)

    app.selectbox(key="people_user").select(person("omar")).run()
    app.text_input(key="people_erase_reason").input("Erasure request 2026-31")
    assert app.button(key="people_erase").disabled
    app.checkbox(key="people_erase_confirm").check().run()
    app.button(key="people_erase").click().run()

    assert not app.exception
    assert app.success[0].value == "Personal data erased; the account is deactivated."
    with Session(engine) as session:
        user = session.get(User, person("omar"))
    assert user is not None
    assert (user.display_name, user.email, user.is_active) == (None, None, False)
    assert user.username.startswith("erased-")
