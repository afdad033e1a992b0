"""Fixtures shared by the whole suite.

Store tests take the ``database_url`` fixture, which runs them once on SQLite and
once on PostgreSQL (each test in a schema of its own). Without a reachable
PostgreSQL the PostgreSQL half is skipped, except under CI=true, where it fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from governance.access import SYSTEM_USER_ID, add_user, stable_user_id
from governance.audit import unit_of_work
from governance.bootstrap import prepare_store
from governance.policy import Policy, load_policy
from governance.settings import Settings, load_settings

POSTGRES_URL = os.environ.get(
    "GOVERNANCE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PEOPLE = {
    "owner": ("model_owner",),
    "scientist": ("data_scientist",),
    "engineer": ("ml_engineer",),
    "compliance": ("compliance_officer",),
    "security": ("security_officer",),
    "admin": ("admin",),
}


def _postgres_available() -> str | None:
    probe = create_engine(POSTGRES_URL)
    try:
        with probe.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        return str(exc.orig).splitlines()[0]
    finally:
        probe.dispose()
    return None


@pytest.fixture(scope="session")
def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can."""
    return _postgres_available()


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_problem: str | None
) -> Iterator[str]:
    """A fresh, empty database on each engine."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'governance.db'}"
        return
    if postgres_problem is not None:
        message = f"PostgreSQL at {POSTGRES_URL} is not reachable: {postgres_problem}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Settings with a private data directory and the database under test."""
    base = load_settings({"GOVERNANCE_HOME": str(tmp_path / "home")})
    return replace(base, database_url=database_url)


@pytest.fixture
def policy() -> Policy:
    """The shipped policy."""
    return load_policy()


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    """A migrated store with the policy installed."""
    engine, _ = prepare_store(settings)
    yield engine
    engine.dispose()


@pytest.fixture
def people(engine: Engine) -> dict[str, str]:
    """One user per role (and an administrator), by short name -> user id."""
    ids = {}
    with unit_of_work(engine) as work:
        for name, roles in PEOPLE.items():
            user = add_user(
                work,
                actor_id=SYSTEM_USER_ID,
                username=name,
                display_name=name.title(),
                email=f"{name}@example.org",
                roles=roles,
                user_id=stable_user_id(name),
            )
            ids[name] = user.id
    return ids


@pytest.fixture(scope="session")
def demo_world(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The whole demo, built once per test session into a private SQLite home."""
    from governance.demo.world import build_demo

    home = tmp_path_factory.mktemp("demo-world")
    demo_settings = load_settings({"GOVERNANCE_HOME": str(home)})
    build_demo(demo_settings, seed=7)
    return demo_settings


@pytest.fixture(scope="session")
def assessed_demo(demo_world: Settings) -> Settings:
    """The demo, whose sign-off history assessed lead-scoring v2 and v3.

    Kept as its own name so tests that need stored evidence say so.
    """
    from governance.evidence import latest_evidence

    engine, _ = prepare_store(demo_world)
    for version in ("2", "3"):
        assert latest_evidence(engine, "lead-scoring", version) is not None
    engine.dispose()
    return demo_world


@pytest.fixture
def demo_home(
    assessed_demo: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """The assessed demo as the app's data directory, with Streamlit caches cleared."""
    import streamlit as st

    monkeypatch.setenv("GOVERNANCE_HOME", str(assessed_demo.home))
    for name in (
        "GOVERNANCE_DATABASE_URL",
        "MLFLOW_TRACKING_URI",
        "MLFLOW_REGISTRY_URI",
    ):
        monkeypatch.delenv(name, raising=False)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield assessed_demo
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def stored_v3(demo_home: Settings) -> object:
    """The latest stored evidence of the demo's lead-scoring v3."""
    from governance.evidence import latest_evidence

    engine, _ = prepare_store(demo_home)
    stored = latest_evidence(engine, "lead-scoring", "3")
    engine.dispose()
    return stored


@pytest.fixture
def app_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple]:
    """A SQLite home with the demo people for AppTest; yields engine and policy."""
    from tests.app_support import app_home

    yield from app_home(tmp_path, monkeypatch)
