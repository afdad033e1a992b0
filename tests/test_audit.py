import csv
import datetime as dt
import io
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
    format_time,
    iter_stored_events,
    unit_of_work,
    verify_chain,
    verify_lines,
)
from governance.errors import InvalidInputError
from governance.inventory import register_version
from governance.records.explorer import (
    AuditFilter,
    day_range,
    events_page,
    export_csv,
    export_jsonl,
    iter_events,
    neutralise_cell,
)
from governance.store import read_session
from governance.tables import AuditEvent, GovernedModel, records_dated, utc_now
from tests.store_support import engine_in_time_zone


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


def test_dated_records_keep_their_date_and_their_event_the_time_it_was_written(
    engine, people
):
    past = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
    before = dt.datetime.now(dt.UTC)
    with records_dated(lambda: past), unit_of_work(engine) as work:
        work.session.add(GovernedModel(name="churn", owner_id=people["owner"]))
        _record(work, 1)

    with read_session(engine) as session:
        created = session.get(GovernedModel, "churn").created_at
    event = _events(engine)[-1]
    assert created.astimezone(dt.UTC) == past
    assert before <= event.occurred_at.astimezone(dt.UTC) <= dt.datetime.now(dt.UTC)
    assert utc_now() >= before
    assert verify_chain(engine).is_intact


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


# --- the explorer: filters, pages, exports ------------------------------------

DAY = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def explorer_world(engine, people, policy, monkeypatch):
    """Three models, events of every kind that concern them, and what each is about.

    Event times are one day apart from 1 March 2026 (the clock the chain reads is
    replaced), so date ranges select known events. Returns the engine and a
    list of (seq, actor, action, day, about) where ``about`` holds (model,
    version-or-None) pairs.
    """
    days = iter(range(1000))
    monkeypatch.setattr(
        "governance.audit.wall_clock", lambda: DAY + dt.timedelta(days=next(days))
    )
    ids = {}
    for name, version in (("churn", "1"), ("churn", "2"), ("fraud", "1")):
        ids[name, version] = register_version(
            engine,
            actor_id=people["scientist"],
            policy=policy,
            name=name,
            version=version,
            model_uri=f"models:/{name}/{version}",
            owner_id=people["owner"],
        )
    ids["churn-x", "1"] = register_version(
        engine,
        actor_id=people["engineer"],
        policy=policy,
        name="churn-x",
        version="1",
        model_uri="models:/churn-x/1",
        owner_id=people["owner"],
    )
    request_id = _approval_request(engine, people, policy, ids["churn", "2"])
    churn1, fraud1 = ids["churn", "1"], ids["fraud", "1"]
    manual = [
        (
            "engineer",
            "signoff.internal_review",
            "model_version",
            str(churn1),
            {},
            [("churn", "1")],
        ),
        (
            "scientist",
            "assessment.recorded",
            "model_version",
            "churn/2",
            {},
            [("churn", "2")],
        ),
        ("engineer", "rollout.rolled_back", "model", "churn", {}, [("churn", None)]),
        (
            "owner",
            "approval.approved",
            "approval_request",
            str(request_id),
            {"role": "model_owner"},
            [("churn", "2")],
        ),
        (
            "engineer",
            "incident.opened",
            "incident",
            "7",
            {"model": "churn", "version": "1"},
            [("churn", "1")],
        ),
        (
            "compliance",
            "monitoring.evaluated",
            "monitoring_window",
            "3",
            {"model_version_id": fraud1},
            [("fraud", "1")],
        ),
        (
            "engineer",
            "incident.opened",
            "incident",
            "8",
            {"model": "churn-x", "version": "1"},
            [("churn-x", "1")],
        ),
        (
            "compliance",
            "monitoring.evaluated",
            "monitoring_window",
            "4",
            {"model_version_id": int(f"{churn1}0")},
            [],
        ),
        (
            "scientist",
            "identity.signed_in",
            "user",
            people["scientist"],
            {"method": "local"},
            [],
        ),
        (
            "compliance",
            "version.stage_changed",
            "model_version",
            str(fraud1),
            {"model": "fraud", "version": "1"},
            [("fraud", "1")],
        ),
        (
            "owner",
            "report.generated",
            "report",
            "1",
            {"model": "churn", "version": 2},
            [("churn", "2")],
        ),
        (
            "engineer",
            "alert.raised",
            "alert",
            "1",
            {"model_name": "churn"},
            [("churn", None)],
        ),
        (
            "admin",
            "note.added",
            "note",
            "1",
            {"text": '"model":"churn"', "x": 1},
            [],
        ),
    ]
    for who, action, kind, entity, payload, _ in manual:
        with unit_of_work(engine) as work:
            work.record(
                actor_id=people[who],
                action=action,
                entity_type=kind,
                entity_id=entity,
                payload=payload,
            )
    explicit = {
        (action, kind, entity): about for _, action, kind, entity, _, about in manual
    }
    table = []
    for event in _events(engine):
        key = (event.action, event.entity_type, event.entity_id)
        if key in explicit:
            about = explicit[key]
        elif event.action == "model.registered":
            about = [(event.entity_id, None)]
        elif event.action == "version.registered":
            about = [tuple(event.entity_id.split("/"))]
        elif event.action == "approval.requested":
            about = [("churn", "2")]
        else:
            about = []
        table.append(
            (event.seq, event.actor_id, event.action, event.occurred_at, about)
        )
    return engine, table


def _approval_request(engine, people, policy, version_id):
    from governance.tables import Assessment
    from governance.workflow_tables import ApprovalRequest

    with unit_of_work(engine) as work:
        assessment = Assessment(
            model_version_id=version_id,
            passed=True,
            created_by=people["scientist"],
            policy_version=policy.version,
            policy_hash=policy.content_hash,
        )
        work.session.add(assessment)
        work.session.flush()
        request = ApprovalRequest(
            model_version_id=version_id,
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
        )
        work.session.add(request)
        work.session.flush()
        work.record(
            actor_id=people["scientist"],
            action="approval.requested",
            entity_type="approval_request",
            entity_id=str(request.id),
            payload={"model_version_id": version_id},
        )
        return request.id


def _matches(row, filters, people_ids):
    seq, actor, action, moment, about = row
    if filters.get("model"):
        wanted_version = filters.get("version")
        if not any(
            model == filters["model"]
            and (wanted_version is None or version == wanted_version)
            for model, version in about
        ):
            return False
    if filters.get("actor") and actor != people_ids[filters["actor"]]:
        return False
    if filters.get("actions") and action not in filters["actions"]:
        return False
    if filters.get("days"):
        first, last = filters["days"]
        if not first <= moment.date() <= last:
            return False
    return True


def _audit_filter(filters, people_ids):
    since, until = day_range(*filters.get("days", (None, None)))
    return AuditFilter(
        model=filters.get("model"),
        version=filters.get("version"),
        actor_id=people_ids[filters["actor"]] if filters.get("actor") else None,
        actions=tuple(filters.get("actions", ())),
        since=since,
        until=until,
    )


MARCH = dt.date(2026, 3, 1)
FILTER_CASES = {
    "none": {},
    "model": {"model": "churn"},
    "model-other": {"model": "fraud"},
    "model-prefix-of-another": {"model": "churn-x"},
    "model-unknown": {"model": "nope"},
    "version": {"model": "churn", "version": "1"},
    "version-2": {"model": "churn", "version": "2"},
    "version-of-other": {"model": "fraud", "version": "1"},
    "version-unknown": {"model": "churn", "version": "9"},
    "actor": {"actor": "engineer"},
    "action": {"actions": ["incident.opened"]},
    "actions": {"actions": ["incident.opened", "monitoring.evaluated"]},
    "days": {"days": (MARCH + dt.timedelta(days=5), MARCH + dt.timedelta(days=9))},
    "model+actor": {"model": "churn", "actor": "engineer"},
    "model+action": {"model": "churn", "actions": ["incident.opened"]},
    "version+days": {
        "model": "churn",
        "version": "1",
        "days": (MARCH, MARCH + dt.timedelta(days=10)),
    },
    "actor+days+action": {
        "actor": "compliance",
        "actions": ["monitoring.evaluated"],
        "days": (MARCH + dt.timedelta(days=10), MARCH + dt.timedelta(days=20)),
    },
}


@pytest.mark.parametrize("case", FILTER_CASES.values(), ids=FILTER_CASES.keys())
def test_filters_return_exactly_the_matching_events(explorer_world, people, case):
    engine, table = explorer_world
    expected = [row[0] for row in table if _matches(row, case, people)]
    filters = _audit_filter(case, people)

    paged, before = [], None
    while True:
        page = events_page(engine, filters, before=before, size=2)
        paged += [event["seq"] for event in page.events]
        if page.next_before is None:
            break
        before = page.next_before
    exported = [json.loads(line) for line in export_jsonl(engine, filters)]
    events_only = [record["seq"] for record in exported if "seq" in record]

    assert paged == sorted(expected, reverse=True)
    assert events_only == sorted(expected)
    assert [e["seq"] for e in iter_events(engine, filters)] == sorted(expected)
    assert verify_lines(json.dumps(record) for record in exported).is_intact


def test_world_covers_each_filter(explorer_world, people):
    """Guard for the table above: the world has something to find for each case."""
    _, table = explorer_world
    for name, case in FILTER_CASES.items():
        count = sum(_matches(row, case, people) for row in table)
        assert count > 0 or name.endswith("unknown"), name


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"version": "1"}, "needs its model"),
        (
            {"since": DAY, "until": DAY - dt.timedelta(days=1)},
            "start must come before",
        ),
        ({"since": DAY, "until": DAY}, "start must come before"),
    ],
    ids=["version-without-model", "reversed-range", "empty-range"],
)
def test_malformed_filters_are_refused(fields, message):
    with pytest.raises(InvalidInputError, match=message):
        AuditFilter(**fields)


def test_a_page_holds_at_least_one_event(engine):
    with pytest.raises(InvalidInputError, match="at least one event"):
        events_page(engine, size=0)


def test_day_range_is_inclusive_of_both_days():
    since, until = day_range(dt.date(2026, 3, 1), dt.date(2026, 3, 31))

    assert since == dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    assert until == dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
    assert day_range(None, None) == (None, None)


def test_pages_have_no_gaps_or_repeats_while_events_are_appended(engine):
    _append(engine, 40)
    first = events_page(engine, size=7)
    top = first.events[0]["seq"]
    done = threading.Event()
    errors = []

    def writer():
        try:
            for number in range(60):
                with unit_of_work(engine) as work:
                    _record(work, 1000 + number)
        except Exception as exc:  # noqa: BLE001  (collected and asserted below)
            errors.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    seen, page = [e["seq"] for e in first.events], first
    while page.next_before is not None:
        page = events_page(engine, before=page.next_before, size=7)
        seen += [event["seq"] for event in page.events]
    thread.join()

    assert errors == []
    assert seen == list(range(top, 0, -1))
    assert events_page(engine, size=1).events[0]["seq"] == top + 60
    assert verify_chain(engine).is_intact


def test_streaming_stops_at_the_head_it_was_given_while_events_are_appended(engine):
    _append(engine, 5)
    head = verify_chain(engine).head_seq
    streamed = iter_stored_events(engine, batch=2, up_to_seq=head)

    seen = [next(streamed)["seq"]]
    _append(engine, 4)
    seen += [event["seq"] for event in streamed]

    assert seen == list(range(1, head + 1))
    assert verify_chain(engine).head_seq == head + 4


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+41", "'+41"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("plain = text", "plain = text"),
        ("", ""),
    ],
    ids=["equals", "plus", "minus", "at", "tab", "carriage-return", "plain", "empty"],
)
def test_csv_cells_a_spreadsheet_would_run_are_neutralised(engine, cell, written):
    with unit_of_work(engine) as work:
        work.record(
            actor_id=cell or "someone",
            action="test.event",
            entity_type="test",
            entity_id=cell,
        )

    rows = list(csv.reader(io.StringIO("".join(export_csv(engine)))))

    header, last = rows[0], rows[-1]
    assert neutralise_cell(cell) == written
    assert last[header.index("entity_id")] == written
    assert last[header.index("actor_id")] == (written or "someone")
    assert last[header.index("seq")] == "3"


def test_csv_export_is_filtered_like_the_explorer(engine):
    _append(engine, 3)
    with unit_of_work(engine) as work:
        work.record(actor_id="u-x", action="other", entity_type="t", entity_id="1")

    rows = list(
        csv.reader(
            io.StringIO("".join(export_csv(engine, AuditFilter(actions=("other",)))))
        )
    )

    assert [row[0] for row in rows] == ["seq", "6"]


@pytest.mark.parametrize(
    "text",
    [
        'quote " and \\ backslash',
        "tab\tnew\nline",
        "ünïcode ✓ 🚀",
        "\u2028\x00\x1f",
        "",
    ],
    ids=["escapes", "controls", "unicode", "separators", "empty"],
)
def test_fast_hash_equals_the_canonical_hash(text):
    from governance.audit import _fast_event_hash, canonical_json
    from governance.records.explorer import _export_line

    event = {
        "seq": 12,
        "occurred_at": "2026-01-01T00:00:00.000001Z",
        "actor_id": text,
        "action": text + "a",
        "entity_type": "t" + text,
        "entity_id": text * 2,
        "payload": json.dumps({"text": text}, ensure_ascii=False),
        "prev_hash": GENESIS_HASH,
    }

    assert _fast_event_hash(event) == event_hash(**event)
    exported = {**event, "hash": text + "h"}
    assert _export_line(exported) == canonical_json(exported) + "\n"


def test_stored_verification_reads_odd_text_back_exactly(engine):
    with unit_of_work(engine) as work:
        work.record(
            actor_id='a"b\\c',
            action="x\u2028y",
            entity_type="t",
            entity_id="🚀",
            payload={"k": "\x00\x1f"},
        )

    assert verify_chain(engine).is_intact
    assert verify_lines(export_jsonl(engine)).is_intact


# SQLite has no session time zone: this case exists on PostgreSQL only.
@pytest.mark.parametrize(
    "database_url",
    [pytest.param("postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)
def test_postgres_session_time_zone_does_not_change_hashed_times(
    settings, engine, monkeypatch
):
    # A whole second, a late evening (another day in Dubai) and an odd instant.
    moments = iter(
        [
            dt.datetime(2026, 3, 31, 23, 30, tzinfo=dt.UTC),
            dt.datetime(2026, 4, 1, 0, 0, 0, 1, tzinfo=dt.UTC),
            dt.datetime(2026, 12, 31, 19, 59, 59, 999999, tzinfo=dt.UTC),
        ]
    )
    monkeypatch.setattr("governance.audit.wall_clock", lambda: next(moments))
    _append(engine, 3)
    shifted = engine_in_time_zone(settings.database_url, "Asia/Dubai")

    exported = [json.loads(line) for line in export_jsonl(shifted)]
    verified = verify_chain(shifted)
    shifted.dispose()

    stored = _events(engine)
    assert [row["occurred_at"] for row in exported] == [
        format_time(event.occurred_at) for event in stored
    ]
    assert [row["occurred_at"] for row in exported[-3:]] == [
        "2026-03-31T23:30:00.000000Z",
        "2026-04-01T00:00:00.000001Z",
        "2026-12-31T19:59:59.999999Z",
    ]
    assert verified.is_intact
    assert verified.events_checked == len(stored)
    assert verified.head_hash == stored[-1].hash
