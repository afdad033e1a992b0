"""Every tampering of the stored trail and of an exported file is found, and where.

Each case names the first sequence number it must be reported at; stored cases
run on SQLite and PostgreSQL (``engine``), with the append-only guard lifted the
way someone holding the database would.
"""

import json
from dataclasses import replace
from datetime import date

import pytest

from governance.audit import chain_head, verify_chain
from governance.audit_records_tables import AuditPurge
from governance.records.checkpoints import (
    audit_key,
    read_checkpoints,
    verify_audit_trail,
    verify_export,
    write_checkpoint,
)
from governance.records.explorer import AuditFilter, export_jsonl
from tests.records.audit_support import (
    append,
    forge_lines,
    rewrite_from,
    stored,
    tamper,
)


@pytest.fixture
def trail(engine):
    """Bootstrap's two events and ten more: sequence numbers 1 to 12."""
    append(engine, 10)
    assert chain_head(engine)[0] == 12
    return engine


def _verify(settings, engine):
    return verify_audit_trail(settings, engine)


# --- the stored trail -------------------------------------------------------


@pytest.mark.parametrize(
    ("statements", "first_bad", "reason"),
    [
        (
            ["UPDATE audit_event SET payload = '{\"number\":99}' WHERE seq = 5"],
            5,
            "content does not match its hash",
        ),
        (["DELETE FROM audit_event WHERE seq = 6"], 7, "expected sequence number 6"),
        (
            [
                "UPDATE audit_event SET seq = -4 WHERE seq = 4",
                "UPDATE audit_event SET seq = 4 WHERE seq = 5",
                "UPDATE audit_event SET seq = 5 WHERE seq = -4",
            ],
            4,
            "previous-hash does not match",
        ),
        (
            ["UPDATE audit_event SET actor_id = 'mallory' WHERE seq = 12"],
            12,
            "content does not match its hash",
        ),
    ],
    ids=["edited-payload", "deleted-row", "swapped-rows", "edited-head"],
)
def test_stored_tampering_is_found_at_its_sequence_number(
    settings, trail, statements, first_bad, reason
):
    write_checkpoint(settings, trail)
    tamper(trail, *statements)

    result = _verify(settings, trail)

    assert not result.is_intact
    assert result.first_bad_seq == first_bad
    assert reason in result.reason
    assert f"sequence number {first_bad}:" in result.describe()


def test_intact_trail_matches_every_checkpoint(settings, engine):
    for _ in range(3):
        append(engine, 2)
        write_checkpoint(settings, engine)

    result = _verify(settings, engine)

    assert result.is_intact
    assert result.checkpoints_checked == 3
    assert result.head_seq == 8
    assert "3 signed checkpoint(s) match" in result.describe()


def test_truncated_tail_is_caught_by_the_checkpoint(settings, trail):
    checkpoint = write_checkpoint(settings, trail)
    tamper(trail, "DELETE FROM audit_event WHERE seq >= 10")

    assert verify_chain(trail).is_intact  # the chain alone cannot tell
    result = _verify(settings, trail)

    assert not result.is_intact
    assert result.first_bad_seq == 10
    assert f"recorded #{checkpoint.seq}" in result.reason
    assert "tail was removed" in result.reason


def test_forged_row_with_recomputed_hashes_is_caught_at_its_checkpoint(
    settings, engine
):
    for _ in range(8):  # a checkpoint after every event, as a busy cron would
        append(engine, 1)
        write_checkpoint(settings, engine)
    rewrite_from(engine, 7, '{"number":1000}')

    assert verify_chain(engine).is_intact  # every link holds after the rewrite
    result = _verify(settings, engine)

    assert not result.is_intact
    assert result.first_bad_seq == 7
    assert "rewritten at or before #7 (after #6, which matches)" in result.reason


def test_forged_row_between_sparse_checkpoints_names_the_window(settings, engine):
    append(engine, 3)
    write_checkpoint(settings, engine)  # #5
    append(engine, 5)
    write_checkpoint(settings, engine)  # #10
    rewrite_from(engine, 7, '{"number":1000}')

    result = _verify(settings, engine)

    assert result.first_bad_seq == 10
    assert "at or before #10 (after #5, which matches)" in result.reason


@pytest.mark.parametrize(
    "edit",
    [
        lambda doc: {**doc, "signature": "0" * 64},
        lambda doc: {**doc, "hash": "f" * 64},
        lambda doc: {**doc, "created_at": "2020-01-01T00:00:00.000000Z"},
        lambda doc: "not json",
    ],
    ids=["signature", "hash", "time", "unreadable"],
)
def test_checkpoint_file_with_a_wrong_signature_is_reported(settings, trail, edit):
    write_checkpoint(settings, trail)
    append(trail, 2)
    checkpoint = write_checkpoint(settings, trail)
    document = json.loads(checkpoint.path.read_text())
    edited = edit(document)
    checkpoint.path.write_text(
        edited if isinstance(edited, str) else json.dumps(edited)
    )

    result = _verify(settings, trail)

    assert not result.is_intact
    assert result.first_bad_seq == 14
    assert "does not carry a valid signature" in result.reason


def test_checkpoints_signed_with_another_key_are_reported(settings, trail):
    write_checkpoint(settings, trail)
    other = replace(settings, audit_key="another key")

    result = _verify(other, trail)

    assert result.first_bad_seq == 12
    assert "valid signature" in result.reason


def test_checkpoints_without_their_key_cannot_pass(settings, trail):
    write_checkpoint(settings, trail)
    (settings.audit_checkpoint_dir / "audit.key").unlink()

    result = _verify(settings, trail)

    assert not result.is_intact
    assert "no audit key" in result.reason


def _purge(engine, up_to_seq, actor_id):
    """Cut the chain as the retention purge does: record the cut, then delete."""
    from governance.store import write_session

    with write_session(engine) as session:
        session.add(
            AuditPurge(
                up_to_seq=up_to_seq,
                last_hash=stored(engine, up_to_seq)["hash"],
                as_of=date(2033, 1, 1),
                purged_by=actor_id,
            )
        )
        session.flush()
        session.connection().exec_driver_sql(
            f"DELETE FROM audit_event WHERE seq <= {up_to_seq}"
        )


def test_verification_starts_after_the_retention_cut(settings, trail):
    early = write_checkpoint(settings, trail)  # #12, will fall under the cut
    append(trail, 3)
    write_checkpoint(settings, trail)  # #15
    _purge(trail, 12, "system")

    result = _verify(settings, trail)

    assert result.is_intact, result.describe()
    assert (result.starts_after, result.events_checked, result.head_seq) == (12, 3, 15)
    assert result.checkpoints_checked == 2  # the early one by its signature only
    assert early.seq <= result.starts_after


def test_an_event_missing_after_the_cut_is_found(settings, trail):
    _purge(trail, 4, "system")
    tamper(trail, "DELETE FROM audit_event WHERE seq = 5")

    result = _verify(settings, trail)

    assert result.first_bad_seq == 6
    assert "expected sequence number 5" in result.reason


def test_a_forged_old_checkpoint_under_the_cut_is_still_reported(settings, trail):
    checkpoint = write_checkpoint(settings, trail)
    append(trail, 2)
    write_checkpoint(settings, trail)
    _purge(trail, 12, "system")
    document = json.loads(checkpoint.path.read_text())
    checkpoint.path.write_text(json.dumps({**document, "hash": "0" * 64}))

    result = _verify(settings, trail)

    assert result.first_bad_seq == 12
    assert "valid signature" in result.reason


# --- an exported file -------------------------------------------------------


@pytest.fixture
def exported(settings, trail):
    """The trail's sealed JSONL export: 12 event lines, then the seal."""
    lines = list(export_jsonl(trail, key=audit_key(settings, create=True)))
    assert len(lines) == 13
    return lines


def _verify_file(settings, lines, *, checkpoints=True):
    return verify_export(
        lines,
        key=audit_key(settings),
        checkpoints=read_checkpoints(settings.audit_checkpoint_dir)
        if checkpoints
        else (),
    )


def _next_event(line):
    """A well-formed event appended after ``line``'s event, hash and all."""
    from governance.audit import event_hash

    record = json.loads(line)
    record.update(seq=record["seq"] + 1, prev_hash=record["hash"], action="forged")
    record["hash"] = event_hash(**{k: v for k, v in record.items() if k != "hash"})
    return json.dumps(record) + "\n"


def _edit(lines, index, **fields):
    record = json.loads(lines[index])
    record.update(fields)
    return [*lines[:index], json.dumps(record) + "\n", *lines[index + 1 :]]


@pytest.mark.parametrize(
    ("change", "first_bad", "reason"),
    [
        (lambda ls: _edit(ls, 4, payload='{"number":7}'), 5, "altered"),
        (lambda ls: _edit(ls, 2, actor_id="mallory"), 3, "altered"),
        (lambda ls: [*ls[:5], *ls[6:]], 7, "expected sequence number 6"),
        (lambda ls: [*ls[:3], ls[4], ls[3], *ls[5:]], 5, "expected sequence number 4"),
        (lambda ls: [*ls[:9], ls[-1]], 10, "tail was cut off"),
        (lambda ls: ls[:9], 10, "does not end with its signed seal"),
        (lambda ls: [*ls, _next_event(ls[-2])], 13, "events follow the seal"),
        (
            lambda ls: [
                *ls[:-1],
                json.dumps(
                    {
                        "audit_export_seal": {
                            **json.loads(ls[-1])["audit_export_seal"],
                            "signature": "1" * 64,
                        }
                    }
                ),
            ],
            12,
            "seal does not carry a valid signature",
        ),
    ],
    ids=[
        "edited-payload",
        "edited-actor",
        "deleted-line",
        "swapped-lines",
        "truncated-tail-seal-kept",
        "truncated-tail-and-seal",
        "line-after-seal",
        "forged-seal",
    ],
)
def test_file_tampering_is_found_at_its_sequence_number(
    settings, exported, change, first_bad, reason
):
    result = _verify_file(settings, change(exported), checkpoints=False)

    assert not result.is_intact
    assert result.first_bad_seq == first_bad
    assert reason in result.reason


def test_intact_export_verifies_with_seal_and_checkpoints(settings, trail):
    write_checkpoint(settings, trail)
    lines = list(export_jsonl(trail, key=audit_key(settings)))

    result = _verify_file(settings, lines)

    assert result.is_intact, result.describe()
    assert (result.events_checked, result.checkpoints_checked) == (12, 1)
    assert "seal is validly signed" in result.describe()


def test_forged_file_with_recomputed_hashes_is_caught(settings, engine):
    for _ in range(6):
        append(engine, 1)
        write_checkpoint(settings, engine)
    lines = list(export_jsonl(engine, key=audit_key(settings)))
    forged = forge_lines(lines, 5, '{"number":1000}')

    by_seal = _verify_file(settings, forged, checkpoints=False)
    by_checkpoints = _verify_file(settings, forged)

    assert by_seal.first_bad_seq == 8  # the seal names the real last hash
    assert "differs from the sealed one" in by_seal.reason
    assert by_checkpoints.first_bad_seq == 5
    assert "rewritten at or before #5" in by_checkpoints.reason


def test_file_checked_against_a_checkpoint_with_a_wrong_signature(settings, trail):
    checkpoint = write_checkpoint(settings, trail)
    lines = list(export_jsonl(trail, key=audit_key(settings)))
    document = json.loads(checkpoint.path.read_text())
    checkpoint.path.write_text(json.dumps({**document, "signature": "ab" * 32}))

    result = _verify_file(settings, lines)

    assert result.first_bad_seq == 12
    assert "valid signature" in result.reason


def test_filtered_export_is_verified_event_by_event(settings, trail):
    append(trail, 3, action="other.event")
    filters = AuditFilter(actions=("other.event",))
    lines = list(export_jsonl(trail, filters, key=audit_key(settings, create=True)))

    result = _verify_file(settings, lines)
    edited = _verify_file(settings, _edit(lines, 2, payload="{}"))

    assert json.loads(lines[0])["audit_export"]["filters"] == {
        "actions": ["other.event"]
    }
    assert result.is_intact
    assert result.is_filtered
    assert result.events_checked == 3
    assert "chain continuity is not claimed" in result.describe()
    assert edited.first_bad_seq == json.loads(lines[2])["seq"]


def test_a_full_export_cannot_pass_as_filtered_to_hide_a_gap(settings, exported):
    header = json.dumps({"audit_export": {"filters": {"actions": ["test.event"]}}})
    relabelled = [header + "\n", *exported[:5], *exported[6:]]

    result = _verify_file(settings, relabelled, checkpoints=False)

    assert not result.is_intact
    assert "does not match the sealed filters" in result.reason


def test_a_filtered_export_without_its_header_fails_as_a_chain(settings, trail):
    append(trail, 2, action="other.event")
    lines = list(export_jsonl(trail, AuditFilter(actions=("other.event",))))

    result = _verify_file(settings, lines[1:], checkpoints=False)

    assert not result.is_intact
    assert result.first_bad_seq == 13
    assert "expected sequence number 1" in result.reason


def test_an_unsealed_export_verifies_without_a_key_but_says_so(trail):
    from governance.audit import verify_lines

    result = verify_lines(list(export_jsonl(trail)))

    assert result.is_intact
    assert "missing tail cannot be ruled out" in result.describe()


def test_an_export_after_a_purge_starts_at_the_cut(settings, trail):
    _purge(trail, 6, "system")
    lines = list(export_jsonl(trail, key=audit_key(settings, create=True)))

    result = _verify_file(settings, lines)

    assert json.loads(lines[0])["audit_export"]["after_seq"] == 6
    assert result.is_intact, result.describe()
    assert (result.starts_after, result.events_checked) == (6, 6)
