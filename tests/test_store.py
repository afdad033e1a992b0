import os
import subprocess
import threading

import pytest
from sqlalchemy import text
from sqlmodel import select

from governance.bootstrap import prepare_store
from governance.errors import StoreUnavailableError
from governance.inventory import register_version
from governance.settings import load_settings
from governance.store import (
    create_store_engine,
    migrate,
    read_session,
    schema_revision,
    write_session,
)
from governance.tables import ModelVersion, RoleAssignment, User


def test_store_round_trips_rows_with_json_and_utc_times(engine, people, policy):
    spec = {
        "target": "converted",
        "features": ["a", "b"],
        "train": {"rows": 12, "sha256": "ab"},
    }

    version_id = register_version(
        engine,
        actor_id=people["scientist"],
        policy=policy,
        name="lead-scoring",
        version="1",
        model_uri="models:/lead-scoring/1",
        owner_id=people["owner"],
        data_spec=spec,
    )

    with read_session(engine) as session:
        row = session.get(ModelVersion, version_id)
        roles = session.exec(
            select(RoleAssignment.role).where(RoleAssignment.user_id == people["owner"])
        ).all()
    assert row.data_spec == spec
    assert row.policy_hash == policy.content_hash
    assert row.registered_at.utcoffset().total_seconds() == 0
    assert roles == ["model_owner"]


def test_migrations_reach_head_and_rerun_is_a_no_op(engine):
    from alembic.script import ScriptDirectory

    from governance.store import MIGRATIONS_DIR

    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert head is not None
    assert schema_revision(engine) == head
    migrate(engine)
    assert schema_revision(engine) == head


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(tmp_path):
    engine = create_store_engine(f"sqlite:///{tmp_path / 'g.db'}")

    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000


def test_foreign_keys_are_enforced(engine):
    with pytest.raises(Exception, match="(?i)foreign key"):
        with write_session(engine) as session:
            session.add(
                RoleAssignment(user_id="nobody", role="admin", granted_by="nobody")
            )


def test_concurrent_read_modify_write_never_hits_database_is_locked(engine, people):
    """Twenty writers each read a row and write it back; none fails, none is lost."""
    errors = []

    def bump():
        try:
            for _ in range(5):
                with write_session(engine) as session:
                    user = session.get(User, people["owner"])
                    user.display_name = (
                        str(int(user.display_name or "0") + 1)
                        if user.display_name.isdigit()
                        else "1"
                    )
        except Exception as exc:  # noqa: BLE001  (collected and asserted below)
            errors.append(exc)

    with write_session(engine) as session:
        session.get(User, people["owner"]).display_name = "0"
    threads = [threading.Thread(target=bump) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with read_session(engine) as session:
        assert session.get(User, people["owner"]).display_name == "100"


def test_unreachable_database_gives_one_clear_message(tmp_path):
    settings = load_settings(
        {
            "GOVERNANCE_HOME": str(tmp_path),
            "GOVERNANCE_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2",
        }
    )

    with pytest.raises(StoreUnavailableError) as caught:
        prepare_store(settings)
    assert (
        "Cannot use the store at postgresql+psycopg://nobody@127.0.0.1:1/none"
        in str(caught.value)
    )
    assert "GOVERNANCE_DATABASE_URL" in str(caught.value)


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder nobody can write, root included (immutable where root runs the tests)."""
    folder = tmp_path / "home"
    folder.mkdir()
    if os.geteuid() == 0:
        if subprocess.run(["chattr", "+i", str(folder)], check=False).returncode != 0:
            pytest.skip("chattr +i is not supported here, and root ignores permissions")
        yield folder
        subprocess.run(["chattr", "-i", str(folder)], check=True)
    else:
        folder.chmod(0o500)
        yield folder
        folder.chmod(0o700)


def test_read_only_data_directory_gives_one_clear_message(read_only_folder):
    settings = load_settings({"GOVERNANCE_HOME": str(read_only_folder)})

    with pytest.raises(StoreUnavailableError) as caught:
        prepare_store(settings)
    assert str(read_only_folder) in str(caught.value)
    assert "GOVERNANCE_HOME" in str(caught.value)
    assert list(read_only_folder.iterdir()) == []


def test_read_only_database_file_gives_one_clear_message(tmp_path):
    settings = load_settings({"GOVERNANCE_HOME": str(tmp_path)})
    engine, _ = prepare_store(settings)
    engine.dispose()
    readonly = create_store_engine(
        f"sqlite:///file:{tmp_path / 'governance.db'}?mode=ro&uri=true"
    )

    with pytest.raises(StoreUnavailableError, match="read-only"):
        with write_session(readonly) as session:
            session.add(User(id="u-x", username="x"))
    with read_session(readonly) as session:
        assert session.exec(text("SELECT count(*) FROM user_account")).scalar() == 1


def test_migrations_match_the_table_declarations(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    with engine.connect() as connection:
        differences = compare_metadata(
            MigrationContext.configure(connection), SQLModel.metadata
        )

    assert differences == []
