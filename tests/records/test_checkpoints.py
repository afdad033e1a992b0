"""Signed checkpoints of the chain head: files, key, and the audit commands."""

import hashlib
import hmac
import json
import stat
import threading
from dataclasses import replace

import pytest

from governance.audit import chain_head
from governance.cli import EXIT_CHECK_FAILED, EXIT_ERROR, EXIT_OK, main
from governance.errors import ConflictError, InvalidInputError
from governance.records.checkpoints import (
    KEY_FILE,
    audit_key,
    read_checkpoints,
    write_checkpoint,
)
from governance.settings import load_settings
from tests.records.audit_support import append, tamper


def test_checkpoint_signs_the_head_with_hmac_sha256(settings, engine):
    append(engine, 3)
    head_seq, head_hash = chain_head(engine)

    checkpoint = write_checkpoint(settings, engine)

    stored = json.loads(checkpoint.path.read_text())
    signed = json.dumps(
        {"created_at": stored["created_at"], "hash": head_hash, "seq": head_seq},
        separators=(",", ":"),
    ).encode()
    key = audit_key(settings)
    assert checkpoint.path.name == f"checkpoint-{head_seq:012d}.json"
    assert checkpoint.path.parent == settings.home / "audit-checkpoints"
    assert (stored["seq"], stored["hash"]) == (head_seq, head_hash)
    assert stored["signature"] == hmac.new(key, signed, hashlib.sha256).hexdigest()
    assert read_checkpoints(settings.audit_checkpoint_dir) == [checkpoint]


def test_key_file_is_created_once_and_private(settings):
    first = audit_key(settings, create=True)
    path = settings.audit_checkpoint_dir / KEY_FILE

    assert len(first) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert audit_key(settings, create=True) == first
    assert audit_key(settings) == first


def test_concurrent_first_checkpoints_share_one_key(settings):
    keys, errors = [], []

    def fetch():
        try:
            keys.append(audit_key(settings, create=True))
        except Exception as exc:  # noqa: BLE001  (collected and asserted below)
            errors.append(exc)

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(set(keys)) == 1


def test_secret_key_setting_wins_and_leaves_no_key_file(settings, engine):
    keyed = replace(settings, audit_key="from the secret store")

    write_checkpoint(keyed, engine)

    assert audit_key(keyed) == b"from the secret store"
    assert not (settings.audit_checkpoint_dir / KEY_FILE).exists()
    assert "from the secret store" not in repr(keyed)


def test_no_key_and_no_key_file_means_none(settings):
    assert audit_key(settings) is None


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("not hex", "non-hexadecimal"),
        ("abcd", "2 bytes of key, fewer than 32"),
        ("", "0 bytes of key"),
    ],
    ids=["not-hex", "short", "empty"],
)
def test_damaged_key_file_is_reported(settings, content, problem):
    settings.audit_checkpoint_dir.mkdir(parents=True)
    (settings.audit_checkpoint_dir / KEY_FILE).write_text(content)

    with pytest.raises(InvalidInputError, match="Cannot read the audit key file") as e:
        audit_key(settings, create=True)
    assert problem in str(e.value)


def test_same_head_twice_keeps_one_checkpoint(settings, engine):
    first = write_checkpoint(settings, engine)
    second = write_checkpoint(settings, engine)

    assert second == first
    assert len(read_checkpoints(settings.audit_checkpoint_dir)) == 1


def test_checkpoint_contradicting_the_log_is_kept_not_overwritten(settings, engine):
    checkpoint = write_checkpoint(settings, engine)
    before = checkpoint.path.read_text()
    tamper(
        engine,
        f"UPDATE audit_event SET hash = '{'e' * 64}' WHERE seq = {checkpoint.seq}",
    )

    with pytest.raises(ConflictError, match="records another hash"):
        write_checkpoint(settings, engine)
    assert checkpoint.path.read_text() == before


def test_checkpoint_folder_comes_from_the_settings(tmp_path):
    folder = tmp_path / "elsewhere"
    settings = load_settings(
        {
            "GOVERNANCE_HOME": str(tmp_path / "home"),
            "GOVERNANCE_AUDIT_CHECKPOINTS": str(folder),
            "GOVERNANCE_AUDIT_KEY": "k",
        }
    )

    assert settings.audit_checkpoint_dir == folder
    assert settings.audit_key == "k"
    assert read_checkpoints(folder) == []


# --- the commands -------------------------------------------------------------


@pytest.fixture
def console(settings, engine, people, monkeypatch):
    """The CLI pointed at the store under test (its engine, closed by the fixture)."""
    monkeypatch.setenv("GOVERNANCE_HOME", str(settings.home))
    monkeypatch.setenv("GOVERNANCE_DATABASE_URL", settings.database_url)
    monkeypatch.setattr("governance.cli._engine", lambda: engine)
    for name in ("GOVERNANCE_AUDIT_KEY", "GOVERNANCE_AUDIT_CHECKPOINTS"):
        monkeypatch.delenv(name, raising=False)
    return engine


def _run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_checkpoint_then_verify_then_find_a_cut_tail(console, settings, capsys):
    head, _ = chain_head(console)

    written = _run(capsys, "audit", "checkpoint")
    intact = _run(capsys, "audit", "verify")
    tamper(console, f"DELETE FROM audit_event WHERE seq = {head}")
    broken = _run(capsys, "audit", "verify")

    assert written[0] == EXIT_OK
    assert f"Checkpoint of event #{head}" in written[1]
    assert intact[0] == EXIT_OK
    assert "1 signed checkpoint(s) match" in intact[1]
    assert broken[0] == EXIT_CHECK_FAILED
    assert f"broken at sequence number {head}:" in broken[1]


def test_filtered_export_verifies_as_a_file(console, people, tmp_path, capsys):
    append(console, 3, actor_id=people["owner"], action="owner.event")
    append(console, 2)
    out = tmp_path / "owner.jsonl"

    exported = _run(
        capsys,
        "audit",
        "export",
        "--format",
        "jsonl",
        "--out",
        str(out),
        "--actor",
        "owner",
        "--action",
        "owner.event",
        "--since",
        "2020-01-01",
    )
    verified = _run(capsys, "audit", "verify", "--file", str(out))

    lines = out.read_text().splitlines()
    assert exported[0] == EXIT_OK
    assert "filtered" in exported[1]
    assert json.loads(lines[0])["audit_export"]["filters"] == {
        "actions": ["owner.event"],
        "actor_id": people["owner"],
        "since": "2020-01-01T00:00:00.000000Z",
    }
    assert len(lines) == 5  # header, three events, seal
    assert verified[0] == EXIT_OK
    assert "Filtered export: 3 events" in verified[1]


def test_whole_export_with_an_edited_line_fails_verification(console, tmp_path, capsys):
    out = tmp_path / "all.jsonl"
    assert _run(capsys, "audit", "export", "--out", str(out))[0] == EXIT_OK
    lines = out.read_text().splitlines()
    edited = json.loads(lines[2])
    edited["payload"] = '{"username":"mallory"}'
    out.write_text("\n".join([*lines[:2], json.dumps(edited), *lines[3:]]) + "\n")

    code, stdout, _ = _run(capsys, "audit", "verify", "--file", str(out))

    assert code == EXIT_CHECK_FAILED
    assert f"broken at sequence number {edited['seq']}:" in stdout


def test_csv_export_with_a_model_filter(console, people, policy, tmp_path, capsys):
    from governance.inventory import register_version

    register_version(
        console,
        actor_id=people["scientist"],
        policy=policy,
        name="=churn",
        version="1",
        model_uri="models:/churn/1",
        owner_id=people["owner"],
    )
    out = tmp_path / "churn.csv"

    code, _, _ = _run(
        capsys,
        "audit",
        "export",
        "--format",
        "csv",
        "--out",
        str(out),
        "--model",
        "=churn",
    )

    rows = out.read_text().splitlines()
    assert code == EXIT_OK
    assert len(rows) == 3
    assert all(",'=churn" in row for row in rows[1:])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--since", "March"], "--since is 'March'; give a day as YYYY-MM-DD"),
        (["--version", "1"], "needs its model"),
        (["--actor", "nobody"], "No user named 'nobody'"),
    ],
    ids=["bad-day", "version-without-model", "unknown-actor"],
)
def test_export_refuses_bad_filters(console, tmp_path, capsys, argv, message):
    code, _, stderr = _run(
        capsys, "audit", "export", "--out", str(tmp_path / "x.jsonl"), *argv
    )

    assert code == EXIT_ERROR
    assert message in stderr


def test_checkpoint_signed_with_a_replaced_key_is_not_overwritten(settings, engine):
    checkpoint = write_checkpoint(settings, engine)
    before = checkpoint.path.read_text()

    with pytest.raises(ConflictError, match="not signed with the current audit key"):
        write_checkpoint(replace(settings, audit_key="new key"), engine)
    assert checkpoint.path.read_text() == before


def test_file_is_checked_against_a_named_checkpoint_folder(
    console, settings, tmp_path, capsys
):
    from tests.records.audit_support import forge_lines

    append(console, 4)
    assert _run(capsys, "audit", "checkpoint")[0] == EXIT_OK
    out = tmp_path / "all.jsonl"
    assert _run(capsys, "audit", "export", "--out", str(out))[0] == EXIT_OK
    head, _ = chain_head(console)
    # Forged from event 3 on, hashes recomputed, and the seal dropped.
    forged = forge_lines(out.read_text().splitlines(keepends=True)[:-1], 3, "{}")
    out.write_text("".join(forged))
    folder = tmp_path / "copied-checkpoints"
    folder.mkdir()
    for checkpoint in read_checkpoints(settings.audit_checkpoint_dir):
        (folder / checkpoint.path.name).write_bytes(checkpoint.path.read_bytes())

    code, stdout, _ = _run(
        capsys, "audit", "verify", "--file", str(out), "--checkpoints", str(folder)
    )

    assert code == EXIT_CHECK_FAILED
    assert f"broken at sequence number {head}:" in stdout
    assert f"rewritten at or before #{head}" in stdout
