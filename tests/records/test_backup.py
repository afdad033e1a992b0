"""Online backup of the SQLite store and restore into an empty data directory."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest
from sqlmodel import Session

from governance.access import SYSTEM_USER_ID
from governance.audit import unit_of_work, verify_chain
from governance.bootstrap import prepare_store
from governance.errors import ConflictError, InvalidInputError
from governance.records.backup import backup_store, restore_store
from governance.settings import Settings, load_settings
from governance.tables import AuditEvent


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    return load_settings({"GOVERNANCE_HOME": str(tmp_path / "live")})


def _write_events(engine, stop: threading.Event, written: list[int]) -> None:
    while not stop.is_set():
        with unit_of_work(engine) as work:
            event = work.record(
                actor_id=SYSTEM_USER_ID,
                action="test.tick",
                entity_type="test",
                entity_id=str(len(written)),
                payload={"n": len(written)},
            )
            written.append(event.seq)


def test_backup_while_writing_restores_with_the_same_head(sqlite_settings, tmp_path):
    engine, _ = prepare_store(sqlite_settings)
    stop, written = threading.Event(), []
    writer = threading.Thread(target=_write_events, args=(engine, stop, written))
    writer.start()
    try:
        while len(written) < 50:
            stop.wait(0.01)
        copy = backup_store(sqlite_settings, tmp_path / "backup.db")
        while len(written) < copy.head_seq + 20:
            stop.wait(0.01)
    finally:
        stop.set()
        writer.join()

    restored_settings = load_settings({"GOVERNANCE_HOME": str(tmp_path / "restored")})
    restored = restore_store(restored_settings, tmp_path / "backup.db")
    restored_engine, _ = prepare_store(restored_settings)
    verification = verify_chain(restored_engine)

    assert verification.is_intact, verification.describe()
    assert (verification.head_seq, verification.head_hash) == (
        copy.head_seq,
        copy.head_hash,
    )
    assert (restored.head_seq, restored.head_hash) == (copy.head_seq, copy.head_hash)
    # The copy is the live chain as it stood at one moment: the same event is in
    # the live store, and the live store has moved on since.
    with Session(engine) as session:
        live = session.get(AuditEvent, copy.head_seq)
    assert live is not None
    assert live.hash == copy.head_hash
    assert verify_chain(engine).head_seq > copy.head_seq
    engine.dispose()
    restored_engine.dispose()


def test_restore_refuses_a_store_that_is_not_empty_without_force(
    sqlite_settings, tmp_path
):
    engine, _ = prepare_store(sqlite_settings)
    copy = backup_store(sqlite_settings, tmp_path / "backup.db")
    engine.dispose()

    with pytest.raises(ConflictError, match="--force"):
        restore_store(sqlite_settings, tmp_path / "backup.db")
    restored = restore_store(sqlite_settings, tmp_path / "backup.db", force=True)

    assert restored.head_seq == copy.head_seq
    with pytest.raises(ConflictError, match="exists already"):
        backup_store(sqlite_settings, tmp_path / "backup.db")


def test_restore_refuses_a_file_that_is_not_a_backup(sqlite_settings, tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)

    with pytest.raises(InvalidInputError):
        restore_store(sqlite_settings, junk)


def test_postgresql_is_refused_with_pg_dump_named(sqlite_settings, tmp_path):
    settings = replace(sqlite_settings, database_url="postgresql+psycopg://u@h/db")

    with pytest.raises(InvalidInputError, match="pg_dump"):
        backup_store(settings, tmp_path / "x.db")
    with pytest.raises(InvalidInputError, match="pg_dump"):
        restore_store(settings, tmp_path / "x.db")


def test_backup_and_restore_commands(sqlite_settings, tmp_path, monkeypatch, capsys):
    from governance.cli import main

    monkeypatch.delenv("GOVERNANCE_DATABASE_URL", raising=False)
    monkeypatch.setenv("GOVERNANCE_HOME", str(sqlite_settings.home))
    prepare_store(sqlite_settings)[0].dispose()
    out = tmp_path / "cli-backup.db"

    assert main(["backup", "--out", str(out)]) == 0
    assert main(["restore", "--from", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    monkeypatch.setenv("GOVERNANCE_HOME", str(tmp_path / "fresh"))
    assert main(["restore", "--from", str(out)]) == 0
    assert "Audit chain intact" in capsys.readouterr().out


def test_backup_command_names_pg_dump_for_postgresql(monkeypatch, tmp_path, capsys):
    from governance.cli import main

    monkeypatch.setenv("GOVERNANCE_DATABASE_URL", "postgresql+psycopg://u@h/db")

    assert main(["backup", "--out", str(tmp_path / "x.db")]) == 2
    assert "pg_dump" in capsys.readouterr().err
