"""Engine, sessions and migrations of the console's store.

SQLite is the embedded default; PostgreSQL serves a team. On SQLite every
connection runs in WAL mode with a busy timeout and foreign keys on, and a write
transaction starts with ``BEGIN IMMEDIATE`` so that it holds the write lock from
its first statement: two writers queue on the lock instead of one of them failing
later with "database is locked" when it tries to upgrade a read lock.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlmodel import Session

from governance.errors import StoreUnavailableError

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 30_000
_WRITE_OPTION = "governance_write"
# Arbitrary constant naming the PostgreSQL advisory lock that write transactions
# take first, the counterpart of SQLite's BEGIN IMMEDIATE: writes are serialised,
# so a read-modify-write never loses an update and the audit chain never forks.
_WRITER_LOCK_KEY = 7_305_119_004


def create_store_engine(url: str) -> Engine:
    """Create the engine for ``url``, configured for safe concurrent use.

    Raises
    ------
    StoreUnavailableError
        When the SQLite file's folder cannot be created or written.
    """
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_engine(url: str) -> Engine:
    database = url.split("///", 1)[-1].split("?", 1)[0].removeprefix("file:")
    if database and database != ":memory:":
        _ensure_writable_dir(Path(database).parent)
    engine = create_engine(
        url,
        connect_args={
            "check_same_thread": False,
            "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
        },
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module so that BEGIN
        # IMMEDIATE below is the statement that opens each transaction.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        is_write = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if is_write else "BEGIN")

    return engine


def _ensure_writable_dir(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreUnavailableError(
            f"Cannot create the data directory {folder}: {exc.strerror}. "
            "Set GOVERNANCE_HOME to a folder you can write."
        ) from exc
    if not os.access(folder, os.W_OK):
        raise StoreUnavailableError(
            f"The data directory {folder} is read-only. "
            "Make it writable or set GOVERNANCE_HOME to a folder you can write."
        )


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A session for reading; it never takes the write lock."""
    with _translated(engine), Session(engine) as session:
        yield session


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A session whose transaction takes the write lock up front and commits on exit.

    Most callers want ``governance.audit.unit_of_work``, which also records the
    audit event of the change.
    """
    writer = engine.execution_options(**{_WRITE_OPTION: True})
    with _translated(engine), Session(writer) as session, session.begin():
        if engine.dialect.name == "postgresql":
            session.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _WRITER_LOCK_KEY}
            )
        yield session


@contextmanager
def _translated(engine: Engine) -> Iterator[None]:
    try:
        yield
    except OperationalError as exc:
        raise StoreUnavailableError(_unavailable_message(engine, exc)) from exc


def _unavailable_message(engine: Engine, exc: SQLAlchemyError) -> str:
    url = engine.url.render_as_string(hide_password=True)
    reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
    if "readonly" in reason or "read-only" in reason:
        return (
            f"The store at {url} is read-only ({reason}). "
            "Make the data directory writable or set GOVERNANCE_HOME."
        )
    return (
        f"Cannot use the store at {url}: {reason}. Check that the database is running "
        "and that GOVERNANCE_DATABASE_URL is right."
    )


def check_connection(engine: Engine) -> None:
    """Open a connection and run a trivial query, or raise a clear error."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise StoreUnavailableError(_unavailable_message(engine, exc)) from exc


def migrate(engine: Engine) -> None:
    """Bring the store's schema to the newest migration."""
    from alembic import command

    check_connection(engine)
    with engine.begin() as connection:
        config = _alembic_config(connection)
        command.upgrade(config, "head")
    logger.debug("Store schema is at the newest migration")


def schema_revision(engine: Engine) -> str | None:
    """The migration the store is at, or None when it was never migrated."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(
            text("SELECT version_num FROM alembic_version")
        ).scalar()


def _alembic_config(connection: Any) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def drop_store(url: str) -> None:
    """Remove every table of the store at ``url`` (used by ``demo --reset``).

    A SQLite store is deleted with its WAL files; on PostgreSQL the migrations
    are run down to an empty schema.
    """
    from alembic import command

    if url.startswith("sqlite"):
        database = Path(url.split("///", 1)[-1])
        for path in (
            database,
            *(database.with_name(database.name + s) for s in ("-wal", "-shm")),
        ):
            path.unlink(missing_ok=True)
        return
    engine = create_store_engine(url)
    try:
        check_connection(engine)
        with _translated(engine), engine.begin() as connection:
            command.downgrade(_alembic_config(connection), "base")
    finally:
        engine.dispose()
