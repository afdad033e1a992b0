"""Retention purge, legal holds and archiving on retirement.

The world is built on a controllable clock: what happens "now" (T0) and what
happens three years later. A purge is then run as of seven years after T0,
minus a day and plus a day.
"""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

import governance.audit
import governance.records.retention as retention_module
from governance.audit import unit_of_work
from governance.audit_records_tables import AuditPurge, LegalHold, ModelArchive
from governance.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    WorkflowBlockedError,
)
from governance.inventory import register_version
from governance.records.retention import (
    add_years,
    due_on,
    place_hold,
    plan_purge,
    purge,
    release_hold,
    retention_status,
    retire_model,
    run_purge,
)
from governance.records_tables import ComplianceReport
from governance.tables import AuditEvent, GovernedModel, ModelVersion

THREE_YEARS = timedelta(days=3 * 366)


class Clock:
    """The time the audit trail and the retention module read as "now"."""

    def __init__(self) -> None:
        self.moment: datetime | None = None

    def __call__(self) -> datetime:
        return self.moment or datetime.now(UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    moving = Clock()
    monkeypatch.setattr(governance.audit, "wall_clock", moving)
    monkeypatch.setattr(retention_module, "utc_now", moving)
    return moving


def _register(engine, people, policy, name: str) -> int:
    return register_version(
        engine,
        actor_id=people["scientist"],
        policy=policy,
        name=name,
        version="1",
        model_uri=f"models:/{name}/1",
        owner_id=people["owner"],
    )


def _report(engine, settings, people, name: str, created_at: datetime) -> int:
    folder = settings.home / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    for suffix in ("html", "pdf"):
        (folder / f"{name}.{suffix}").write_text(name, encoding="utf-8")
    with unit_of_work(engine) as work:
        report = ComplianceReport(
            kind="monthly_compliance",
            title=name,
            html_path=f"reports/{name}.html",
            pdf_path=f"reports/{name}.pdf",
            html_sha256="a" * 64,
            pdf_sha256="b" * 64,
            policy_version="1.0.0",
            created_by=people["compliance"],
            created_at=created_at,
        )
        work.session.add(report)
        work.session.flush()
        work.record(
            actor_id=people["compliance"],
            action="report.generated",
            entity_type="compliance_report",
            entity_id=str(report.id),
        )
        assert report.id is not None
        return report.id


def _head(engine) -> int:
    with Session(engine) as session:
        return (
            session.exec(
                select(AuditEvent.seq).order_by(col(AuditEvent.seq).desc())
            ).first()
            or 0
        )


@pytest.fixture
def world(engine, settings, people, policy, clock):
    """Records made at T0 and at T0 + 3 years, some under legal hold."""
    t0 = datetime.now(UTC)
    clock.moment = t0
    owner, compliance = people["owner"], people["compliance"]

    _register(engine, people, policy, "alpha")
    retire_model(
        settings, engine, policy, actor_id=owner, model_name="alpha", reason="replaced"
    )
    r1 = _report(engine, settings, people, "r1", t0)

    first_held_seq = _head(engine) + 1
    _register(engine, people, policy, "gamma")
    retire_model(
        settings, engine, policy, actor_id=owner, model_name="gamma", reason="replaced"
    )
    place_hold(
        engine,
        actor_id=compliance,
        subject_type="model",
        subject_id="gamma",
        reason="litigation 12",
    )
    r3 = _report(engine, settings, people, "r3", t0)
    place_hold(
        engine,
        actor_id=compliance,
        subject_type="compliance_report",
        subject_id=str(r3),
        reason="regulator request",
    )

    clock.moment = t0 + THREE_YEARS
    _register(engine, people, policy, "beta")
    retire_model(
        settings, engine, policy, actor_id=owner, model_name="beta", reason="replaced"
    )
    r2 = _report(engine, settings, people, "r2", t0 + THREE_YEARS)
    return {
        "t0": t0,
        "reports": {"r1": r1, "r2": r2, "r3": r3},
        "first_held_seq": first_held_seq,
    }


def _surviving(engine, record_class: str, world) -> set:
    with Session(engine) as session:
        if record_class == "audit_log":
            return set(session.exec(select(AuditEvent.seq)).all())
        if record_class == "compliance_reports":
            ids = set(session.exec(select(ComplianceReport.id)).all())
            return {name for name, i in world["reports"].items() if i in ids}
        return set(session.exec(select(GovernedModel.name)).all())


EXPECTED_GONE = {
    "compliance_reports": {"r1"},
    "retired_models": {"alpha"},
}


@pytest.mark.parametrize(
    "record_class", ["audit_log", "compliance_reports", "retired_models"]
)
def test_a_day_before_seven_years_nothing_is_deleted(
    engine, settings, policy, people, world, clock, record_class
):
    before = _surviving(engine, record_class, world)
    as_of = add_years(world["t0"].date(), 7) - timedelta(days=1)
    now = datetime.combine(as_of, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)

    result = purge(
        settings, engine, policy, actor_id=people["compliance"], as_of=as_of, now=now
    )

    assert result.plan.is_empty
    assert result.counts["audit_log"] == 0
    after = _surviving(engine, record_class, world)
    if record_class == "audit_log":
        after -= {_head(engine)}  # the purge's own event
    assert after == before


@pytest.mark.parametrize(
    "record_class", ["audit_log", "compliance_reports", "retired_models"]
)
def test_a_day_after_seven_years_only_what_is_due_and_not_held_goes(
    engine, settings, policy, people, world, clock, record_class
):
    before = _surviving(engine, record_class, world)
    as_of = add_years(world["t0"].date(), 7) + timedelta(days=1)
    now = datetime.combine(as_of, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    clock.moment = now

    result = purge(
        settings, engine, policy, actor_id=people["compliance"], as_of=as_of, now=now
    )

    after = _surviving(engine, record_class, world)
    if record_class == "audit_log":
        # Everything before the first event about the held model goes; the held
        # event and everything after it stay, and the purge's own event is new.
        expected_gone = {seq for seq in before if seq < world["first_held_seq"]}
        assert result.plan.stopped_at_held_seq == world["first_held_seq"]
        assert result.counts["audit_log"] == len(expected_gone)
        assert after == (before - expected_gone) | {_head(engine)}
    else:
        assert before - after == EXPECTED_GONE[record_class]


def test_purge_deletes_a_retired_models_rows_and_files(
    engine, settings, policy, people, world, clock
):
    with Session(engine) as session:
        archive = session.exec(
            select(ModelArchive).where(ModelArchive.model_name == "alpha")
        ).one()
    assert (settings.home / archive.path).exists()
    as_of = add_years(world["t0"].date(), 7) + timedelta(days=1)
    now = datetime.combine(as_of, datetime.min.time(), tzinfo=UTC)
    clock.moment = now

    result = purge(
        settings, engine, policy, actor_id=people["compliance"], as_of=as_of, now=now
    )

    with Session(engine) as session:
        names = set(session.exec(select(ModelVersion.model_name)).all())
        archives = set(session.exec(select(ModelArchive.model_name)).all())
    assert names == {"beta", "gamma"}
    assert archives == {"beta", "gamma"}
    assert not (settings.home / archive.path).exists()
    assert not (settings.home / "reports" / "r1.pdf").exists()
    assert (settings.home / "reports" / "r3.pdf").exists()
    assert result.counts["tables"]["model_version"] == 1
    assert result.counts["tables"]["governed_model"] == 1
    assert result.files_deleted == 3


def test_purge_is_audited_and_the_chain_verifies_from_the_cut(
    engine, settings, policy, people, world, clock
):
    as_of = add_years(world["t0"].date(), 7) + timedelta(days=1)
    now = datetime.combine(as_of, datetime.min.time(), tzinfo=UTC)
    clock.moment = now

    result, verification = run_purge(
        settings, engine, policy, actor_id=people["compliance"], as_of=as_of, now=now
    )

    with Session(engine) as session:
        recorded = session.get(AuditPurge, result.purge_id)
        first = session.exec(
            select(AuditEvent).order_by(col(AuditEvent.seq)).limit(1)
        ).one()
        last = session.exec(
            select(AuditEvent).order_by(col(AuditEvent.seq).desc()).limit(1)
        ).one()
    assert recorded is not None
    assert recorded.up_to_seq == world["first_held_seq"] - 1
    assert first.seq == recorded.up_to_seq + 1
    assert first.prev_hash == recorded.last_hash
    assert recorded.counts == result.counts
    assert last.action == "retention.purged"
    payload = json.loads(last.payload)
    assert payload["up_to_seq"] == recorded.up_to_seq
    assert payload["models"] == ["alpha"]
    assert payload["reports"] == [world["reports"]["r1"]]
    assert verification.is_intact, verification.describe()
    assert verification.starts_after == recorded.up_to_seq
    assert verification.head_seq == last.seq
    # Signed before the purge (its head survives) and after it.
    assert verification.checkpoints_checked == 2


def test_released_hold_lets_the_records_go(
    engine, settings, policy, people, world, clock
):
    with Session(engine) as session:
        hold = session.exec(
            select(LegalHold).where(LegalHold.subject_id == "gamma")
        ).one()
    release_hold(
        engine, actor_id=people["compliance"], hold_id=hold.id, reason="settled"
    )
    as_of = add_years(world["t0"].date(), 7) + timedelta(days=1)
    now = datetime.combine(as_of, datetime.min.time(), tzinfo=UTC)
    clock.moment = now

    plan = plan_purge(engine, policy, as_of=as_of, now=now)

    assert plan.models == ("alpha", "gamma")
    # The audit purge now stops later: at the event of the still-held report r3.
    assert plan.stopped_at_held_seq is not None
    assert plan.stopped_at_held_seq > world["first_held_seq"]
    with pytest.raises(ConflictError):
        release_hold(
            engine, actor_id=people["compliance"], hold_id=hold.id, reason="again"
        )


def test_hold_on_the_audit_log_keeps_events_from_its_date(
    engine, settings, policy, people, world, clock
):
    place_hold(
        engine,
        actor_id=people["compliance"],
        subject_type="audit_log",
        held_from=world["t0"].date(),
        reason="audit of 2026",
    )
    as_of = add_years(world["t0"].date(), 7) + timedelta(days=1)
    now = datetime.combine(as_of, datetime.min.time(), tzinfo=UTC)

    plan = plan_purge(engine, policy, as_of=as_of, now=now)

    assert plan.events == 0
    assert plan.stopped_at_held_seq == 1


def test_hold_on_a_version_keeps_its_model(engine, policy, people, world):
    with Session(engine) as session:
        alpha = session.exec(
            select(ModelVersion).where(ModelVersion.model_name == "alpha")
        ).one()
    place_hold(
        engine,
        actor_id=people["compliance"],
        subject_type="model_version",
        subject_id=str(alpha.id),
        reason="claim 3",
    )
    as_of = add_years(world["t0"].date(), 7) + timedelta(days=1)
    now = datetime.combine(as_of, datetime.min.time(), tzinfo=UTC)

    plan = plan_purge(engine, policy, as_of=as_of, now=now)

    assert plan.models == ()
    assert plan.kept_held_models == ("alpha", "gamma")
    assert plan.stopped_at_held_seq is not None
    assert plan.stopped_at_held_seq < world["first_held_seq"]


def test_dry_run_changes_nothing_and_a_future_date_is_refused(
    engine, settings, policy, people, world, clock
):
    head = _head(engine)
    as_of = add_years(world["t0"].date(), 7) + timedelta(days=1)
    now = datetime.combine(as_of, datetime.min.time(), tzinfo=UTC)

    plan = plan_purge(engine, policy, as_of=as_of, now=now)

    assert plan.models == ("alpha",)
    assert plan.kept_held_models == ("gamma",)
    assert plan.events == world["first_held_seq"] - 1
    assert _head(engine) == head
    with pytest.raises(InvalidInputError, match="after today"):
        plan_purge(engine, policy, as_of=as_of)


def test_status_names_the_oldest_record_and_its_due_date(engine, policy, world):
    statuses = {s.record_class: s for s in retention_status(engine, policy)}

    assert statuses["retired_models"].records == 3
    assert statuses["compliance_reports"].records == 3
    assert statuses["compliance_reports"].becomes_due == add_years(
        world["t0"].date(), 7
    ) + timedelta(days=1)
    assert statuses["active_models"].records == 0
    assert statuses["audit_log"].becomes_due == due_on(world["t0"], 7)


def test_leap_day_counts_from_the_28th():
    assert add_years(datetime(2028, 2, 29).date(), 7) == datetime(2035, 2, 28).date()


def test_retiring_archives_the_models_rows_and_events(engine, settings, policy, people):
    version_id = _register(engine, people, policy, "delta")

    archive = retire_model(
        settings,
        engine,
        policy,
        actor_id=people["owner"],
        model_name="delta",
        reason="superseded",
    )

    import hashlib

    content = (settings.home / archive.path).read_bytes()
    assert hashlib.sha256(content).hexdigest() == archive.sha256
    with zipfile.ZipFile(settings.home / archive.path) as bundle:
        rows = json.loads(bundle.read("rows.json"))
        events = [
            json.loads(line) for line in bundle.read("audit_events.jsonl").splitlines()
        ]
    assert [row["name"] for row in rows["governed_model"]] == ["delta"]
    assert [row["id"] for row in rows["model_version"]] == [version_id]
    actions = [event["action"] for event in events]
    assert actions[0] == "model.registered"
    assert "version.stage_changed" in actions
    with Session(engine) as session:
        model = session.get(GovernedModel, "delta")
        version = session.get(ModelVersion, version_id)
        event = session.exec(
            select(AuditEvent).where(AuditEvent.action == "model.retired")
        ).one()
    assert model.is_retired
    assert model.retired_at is not None
    assert version.stage == "retired"
    assert json.loads(event.payload)["archive_sha256"] == archive.sha256
    with pytest.raises(WorkflowBlockedError):
        retire_model(
            settings,
            engine,
            policy,
            actor_id=people["owner"],
            model_name="delta",
            reason="again",
        )


@pytest.mark.parametrize(
    ("who", "action"),
    [
        ("owner", "purge"),
        ("admin", "purge"),
        ("owner", "hold"),
        ("scientist", "retire"),
        ("compliance", "retire"),
    ],
)
def test_permissions(engine, settings, policy, people, who, action):
    _register(engine, people, policy, "epsilon")
    calls = {
        "purge": lambda: purge(settings, engine, policy, actor_id=people[who]),
        "hold": lambda: place_hold(
            engine,
            actor_id=people[who],
            subject_type="model",
            subject_id="epsilon",
            reason="x",
        ),
        "retire": lambda: retire_model(
            settings,
            engine,
            policy,
            actor_id=people[who],
            model_name="epsilon",
            reason="x",
        ),
    }
    with pytest.raises(PermissionDeniedError):
        calls[action]()


def test_hold_on_an_unknown_subject_is_refused(engine, people):
    with pytest.raises(NotFoundError):
        place_hold(
            engine,
            actor_id=people["compliance"],
            subject_type="model",
            subject_id="nope",
            reason="x",
        )
    with pytest.raises(InvalidInputError):
        place_hold(
            engine,
            actor_id=people["compliance"],
            subject_type="building",
            subject_id="1",
            reason="x",
        )
    with pytest.raises(InvalidInputError):
        place_hold(
            engine, actor_id=people["compliance"], subject_type="audit_log", reason="x"
        )


# --- The database's own guard --------------------------------------------------


def _delete(engine, statement: str) -> None:
    with engine.begin() as connection:
        connection.execute(text(statement))


def test_database_refuses_deleting_beyond_the_authorised_cut(engine, people):
    with Session(engine) as session:
        first = session.get(AuditEvent, 1)
        second = session.get(AuditEvent, 2)
    assert first is not None
    assert second is not None

    with pytest.raises(DBAPIError):
        _delete(engine, "DELETE FROM audit_event WHERE seq = 1")

    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_purge (up_to_seq, last_hash, as_of, purged_by, purged_at, counts) "
                "VALUES (1, :hash, '2026-01-01', :who, '2026-01-01 00:00:00', '{}')"
            ),
            {"hash": first.hash, "who": people["compliance"]},
        )
        connection.execute(text("DELETE FROM audit_event WHERE seq = 1"))
    with pytest.raises(DBAPIError):
        _delete(engine, "DELETE FROM audit_event WHERE seq = 2")
    with pytest.raises(DBAPIError):
        _delete(engine, "UPDATE audit_event SET payload = '{}' WHERE seq = 2")
    with pytest.raises(DBAPIError):
        _delete(engine, "DELETE FROM audit_purge")
    with pytest.raises(DBAPIError):
        _delete(engine, "UPDATE audit_purge SET up_to_seq = 5")


def test_database_refuses_a_cut_that_names_no_stored_event(engine, people):
    with pytest.raises(DBAPIError):
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO audit_purge (up_to_seq, last_hash, as_of, purged_by, purged_at, counts) "
                    "VALUES (3, :hash, '2026-01-01', :who, '2026-01-01 00:00:00', '{}')"
                ),
                {"hash": "f" * 64, "who": people["compliance"]},
            )


def test_retention_commands(engine, settings, people, monkeypatch, capsys):
    from governance.cli import main

    monkeypatch.setenv("GOVERNANCE_HOME", str(settings.home))
    monkeypatch.setenv("GOVERNANCE_DATABASE_URL", settings.database_url)

    assert main(["retention", "purge", "--dry-run"]) == 0
    assert "Nothing is past retention" in capsys.readouterr().out
    assert (
        main(
            [
                "retention",
                "hold",
                "--model",
                "nope",
                "--reason",
                "x",
                "--as",
                "compliance",
            ]
        )
        == 2
    )
    assert (
        main(
            [
                "retention",
                "hold",
                "--audit-from",
                "2026-01-01",
                "--reason",
                "x",
                "--as",
                "compliance",
            ]
        )
        == 0
    )
    assert main(["retention", "purge", "--as", "owner"]) == 2
    assert "Compliance officer" in capsys.readouterr().err
    assert main(["retention", "purge", "--as", "compliance"]) == 0
    output = capsys.readouterr().out
    assert "Audit chain intact" in output
    assert main(["retention", "status"]) == 0
    assert "Audit log" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.xdist_group("demo")
def test_retire_and_purge_the_demo_models_on_a_copy(
    demo_world, tmp_path, policy, clock
):
    from governance.access import stable_user_id
    from governance.bootstrap import prepare_store
    from governance.records.backup import backup_store, restore_store
    from governance.settings import load_settings

    copy = load_settings({"GOVERNANCE_HOME": str(tmp_path / "copy")})
    restore_store(copy, backup_store(demo_world, tmp_path / "demo.db").path)
    engine, _ = prepare_store(copy)
    for name in ("lead-scoring", "licence-renewal"):
        retire_model(
            copy,
            engine,
            policy,
            actor_id=stable_user_id("layla"),
            model_name=name,
            reason="programme closed",
        )
    as_of = add_years(datetime.now(UTC).date(), 7) + timedelta(days=1)
    clock.moment = datetime.combine(as_of, datetime.min.time(), tzinfo=UTC)

    result, verification = run_purge(
        copy,
        engine,
        policy,
        actor_id=stable_user_id("daniel"),
        as_of=as_of,
        now=clock.moment,
    )

    assert result.plan.models == ("lead-scoring", "licence-renewal")
    assert result.counts["tables"]["model_version"] == 5
    with Session(engine) as session:
        assert session.exec(select(ModelVersion)).all() == []
        remaining = session.exec(select(AuditEvent.action)).all()
    # Every event was due; the newest one before the purge stays as the head.
    assert len(remaining) == 2
    assert remaining[-1] == "retention.purged"
    assert verification.is_intact, verification.describe()
    engine.dispose()
