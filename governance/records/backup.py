"""Backing up and restoring the SQLite store while the console is in use.

A backup uses SQLite's online backup API (``sqlite3.Connection.backup``): all
pages are copied in one step inside one read transaction, so the copy is the
database as it stood at one moment, even while other connections keep writing
(in WAL mode readers and writers do not block each other). The copy is switched
to a single-file journal and checked with ``PRAGMA integrity_check``.

PostgreSQL has its own tools: ``pg_dump`` for a consistent copy of a live
database and ``pg_restore`` to load it; the console refuses rather than
pretending to do their job.

A backup holds the database only; the evidence files under the data directory
(artifacts, reports, archives) are copied with ordinary file tools.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from governance.errors import ConflictError, InvalidInputError, NotFoundError
from governance.settings import Settings

logger = logging.getLogger(__name__)

PG_DUMP_HINT = (
    "The store is PostgreSQL: back it up with pg_dump (for example "
    "`pg_dump --format=custom --file=governance.dump DATABASE`) and restore it "
    "with pg_restore; the console's backup and restore work on SQLite only."
)


@dataclass(frozen=True)
class StoreCopy:
    """A backup or restore: the file and the audit chain's head inside it."""

    path: Path
    size_bytes: int
    events: int
    head_seq: int
    head_hash: str

    def describe(self) -> str:
        """One line for a person."""
        return (
            f"{self.path}: {self.size_bytes:,} bytes, {self.events} audit events, "
            f"head #{self.head_seq} {self.head_hash[:16]}…"
        )


def sqlite_path(settings: Settings) -> Path:
    """The SQLite store's file, or an error naming pg_dump for PostgreSQL."""
    if not settings.is_sqlite:
        raise InvalidInputError(PG_DUMP_HINT)
    database = make_url(settings.database_url).database
    if not database or database == ":memory:":
        raise InvalidInputError("An in-memory store cannot be backed up or restored.")
    return Path(database)


def backup_store(settings: Settings, out: Path) -> StoreCopy:
    """Copy the live SQLite store to ``out`` (which must not exist yet)."""
    source = sqlite_path(settings)
    if not source.exists():
        raise NotFoundError(f"There is no store at {source} to back up.")
    if out.exists():
        raise ConflictError(f"{out} exists already; choose a new file for the backup.")
    out.parent.mkdir(parents=True, exist_ok=True)
    with _open(source) as live, _open(out) as copy:
        live.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")
        _check_integrity(copy, out)
        result = _describe(copy, out)
    logger.info("Backed up the store: %s", result.describe())
    return result


def restore_store(
    settings: Settings, source: Path, *, force: bool = False
) -> StoreCopy:
    """Load a backup into the SQLite store named by ``settings``.

    Refuses to overwrite a store that holds audit events unless ``force``; the
    restored store is migrated to the newest schema by the next
    ``prepare_store``.
    """
    target = sqlite_path(settings)
    if not source.exists():
        raise NotFoundError(f"There is no backup at {source}.")
    with _open(source) as backup:
        _check_integrity(backup, source)
        if not _has_audit_table(backup):
            raise InvalidInputError(
                f"{source} is not a backup of the console's store (no audit trail)."
            )
    if not force and _holds_events(target):
        raise ConflictError(
            f"The store at {target} is not empty; restore into an empty data "
            "directory, or pass --force to replace it."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with _open(source) as backup, _open(target) as store:
        backup.backup(store)
        result = _describe(store, target)
    logger.info("Restored the store from %s: %s", source, result.describe())
    return result


@contextmanager
def _open(path: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA busy_timeout=30000")
        yield connection
    finally:
        connection.close()


def _check_integrity(connection: sqlite3.Connection, path: Path) -> None:
    try:
        verdict = connection.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise InvalidInputError(f"{path} is not a SQLite database ({exc}).") from exc
    if verdict != "ok":
        raise InvalidInputError(f"{path} is damaged: {verdict}.")


def _has_audit_table(connection: sqlite3.Connection) -> bool:
    row = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_event'"
    ).fetchone()
    return row is not None


def _holds_events(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    with _open(path) as connection:
        if not _has_audit_table(connection):
            return False
        return (
            connection.execute("SELECT 1 FROM audit_event LIMIT 1").fetchone()
            is not None
        )


def _describe(connection: sqlite3.Connection, path: Path) -> StoreCopy:
    events, head_seq = connection.execute(
        "SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM audit_event"
    ).fetchone()
    row = connection.execute(
        "SELECT hash FROM audit_event WHERE seq = ?", (head_seq,)
    ).fetchone()
    return StoreCopy(
        path=path,
        size_bytes=path.stat().st_size,
        events=int(events),
        head_seq=int(head_seq),
        head_hash=row[0] if row else "0" * 64,
    )
