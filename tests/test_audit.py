import json
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from governance.access import SYSTEM_USER_ID
from governance.audit import (
    GENESIS_HASH,
    MissingAuditEventError,
    event_hash,
    export_csv,
    export_jsonl,
    neutralise_cell,
    unit_of_work,
    verify_chain,
    verify_lines,
)
from governance.store import read_session
from governance.tables import AuditEvent, GovernedModel


def _record(work, number):
    return work.record(
        actor_id=SYSTEM_USER_ID,
        action="test.event",
        entity_type="test",
        entity_id=str(number),
        payload={"number": number, "text": "née = ünïcode"},
    )


def _append(engine, count):
    for number in range(count):
        with unit_of_work(engine) as work:
            _record(work, number)


def _events(engine):
    with read_session(engine) as session:
        return session.exec(select(AuditEvent).order_by(AuditEvent.seq)).all()


def test_each_event_hashes_its_fields_and_the_previous_hash(engine):
    _append(engine, 3)
    events = _events(engine)

    assert [event.seq for event in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == GENESIS_HASH
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash
    last = events[-1]
    document = {
        "action": last.action,
        "actor_id": last.actor_id,
        "entity_id": last.entity_id,
        "entity_type": last.entity_type,
        "occurred_at": last.occurred_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "payload": last.payload,
        "prev_hash": last.prev_hash,
        "seq": last.seq,
    }
    import hashlib

    by_hand = hashlib.sha256(
        json.dumps(
            document, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    ).hexdigest()
    assert last.hash == by_hand
    assert json.loads(last.payload) == {"number": 2, "text": "née = ünïcode"}


def test_change_and_event_commit_together(engine, people):
    with unit_of_work(engine) as work:
        work.session.add(GovernedModel(name="churn", owner_id=people["owner"]))
        _record(work, 1)

    with read_session(engine) as session:
        assert session.get(GovernedModel, "churn") is not None
    assert _events(engine)[-1].entity_id == "1"


def test_failure_after_the_change_rolls_back_change_and_event(engine, people):
    before = len(_events(engine))

    with pytest.raises(RuntimeError, match="injected"):  # noqa: PT012
        with unit_of_work(engine) as work:
            work.session.add(GovernedModel(name="churn", owner_id=people["owner"]))
            _record(work, 1)
            raise RuntimeError("injected")

    with read_session(engine) as session:
        assert session.get(GovernedModel, "churn") is None
    assert len(_events(engine)) == before
    assert verify_chain(engine).is_intact


def test_change_without_an_event_is_refused_and_rolled_back(engine, people):
    with pytest.raises(MissingAuditEventError, match="without its audit event"):
        with unit_of_work(engine) as work:
            work.session.add(GovernedModel(name="churn", owner_id=people["owner"]))

    with read_session(engine) as session:
        assert session.get(GovernedModel, "churn") is None


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_event SET actor_id = 'mallory'", "DELETE FROM audit_event"],
    ids=["update", "delete"],
)
def test_database_refuses_update_and_delete(engine, statement):
    _append(engine, 2)

    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as connection:
            connection.execute(text(statement))
    assert verify_chain(engine).is_intact


def _tamper(engine, sql):
    """Change the trail behind the guard, as someone with the database file would."""
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER audit_event_refuse_update"))
            connection.execute(text("DROP TRIGGER audit_event_refuse_delete"))
        else:
            connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        connection.exec_driver_sql(sql)


@pytest.mark.parametrize(
    ("sql", "first_bad", "reason"),
    [
        (
            "UPDATE audit_event SET payload = '{\"number\":99}' WHERE seq = 5",
            5,
            "altered",
        ),
        ("UPDATE audit_event SET actor_id = 'mallory' WHERE seq = 4", 4, "altered"),
        ("DELETE FROM audit_event WHERE seq = 6", 7, "expected sequence number 6"),
        (
            "DELETE FROM audit_event WHERE seq >= 1 AND seq <= 1",
            2,
            "expected sequence number 1",
        ),
    ],
    ids=["payload", "actor", "deleted-row", "deleted-first"],
)
def test_verify_names_the_first_bad_sequence_number(engine, sql, first_bad, reason):
    _append(engine, 6)
    assert verify_chain(engine).is_intact

    _tamper(engine, sql)
    result = verify_chain(engine)

    assert not result.is_intact
    assert result.first_bad_seq == first_bad
    assert reason in result.reason


def test_exported_file_verifies_without_the_database(engine, tmp_path):
    _append(engine, 5)
    lines = list(export_jsonl(engine))

    assert verify_lines(lines).is_intact
    assert verify_lines(lines).head_hash == verify_chain(engine).head_hash

    edited = json.loads(lines[3])
    edited["payload"] = '{"number":1000}'
    tampered = [*lines[:3], json.dumps(edited), *lines[4:]]
    assert verify_lines(tampered).first_bad_seq == edited["seq"]
    swapped = [*lines[:2], lines[3], lines[2], *lines[4:]]
    assert verify_lines(swapped).first_bad_seq == json.loads(lines[3])["seq"]


def test_csv_export_neutralises_formula_cells(engine):
    with unit_of_work(engine) as work:
        work.record(
            actor_id=SYSTEM_USER_ID,
            action="test.event",
            entity_type="test",
            entity_id='=HYPERLINK("http://x")',
        )

    exported = "".join(export_csv(engine))

    assert "'=HYPERLINK" in exported
    assert exported.splitlines()[0].startswith("seq,occurred_at,actor_id")
    assert neutralise_cell("+1") == "'+1"
    assert neutralise_cell("plain") == "plain"


def test_concurrent_writers_keep_one_valid_chain(engine):
    errors = []

    def writer(worker):
        try:
            for number in range(5):
                with unit_of_work(engine) as work:
                    _record(work, worker * 100 + number)
        except Exception as exc:  # noqa: BLE001  (collected and asserted below)
            errors.append(exc)

    before = len(_events(engine))
    threads = [threading.Thread(target=writer, args=(worker,)) for worker in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(_events(engine)) == before + 100
    assert verify_chain(engine).is_intact


def test_event_hash_changes_with_any_field():
    base = {
        "seq": 1,
        "occurred_at": "2026-01-01T00:00:00.000000Z",
        "actor_id": "u-1",
        "action": "x",
        "entity_type": "t",
        "entity_id": "1",
        "payload": "{}",
        "prev_hash": GENESIS_HASH,
    }
    reference = event_hash(**base)
    for key in base:
        changed = dict(
            base, **{key: base[key] + 1 if key == "seq" else base[key] + "!"}
        )
        assert event_hash(**changed) != reference, key
