"""Helpers for AppTest tests of the sign-off and admin pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from governance.access import stable_user_id
from governance.bootstrap import prepare_store
from governance.demo.world import seed_people
from governance.settings import load_settings

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 60


class NavigationOnly(PagesManager):
    """AppTest's pages manager without the pages/-folder (v1) detection.

    AppTest resets ``PagesManager.uses_pages_directory`` before every run; with a
    ``pages/`` folder beside ``app.py`` each rerun would execute the selected page
    without ``app.py``. The console keeps its pages in ``views/`` so neither a
    server nor AppTest enters that mode; this guard keeps it that way in tests.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        PagesManager.uses_pages_directory = False


def app_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple]:
    """A SQLite home with the demo people for the app; yields engine and policy.

    AppTest runs with app.py's navigation on every run, as a server does.
    """
    monkeypatch.setattr("streamlit.testing.v1.app_test.PagesManager", NavigationOnly)
    monkeypatch.setenv("GOVERNANCE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("GOVERNANCE_DATABASE_URL", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("GOVERNANCE_AUTH", raising=False)
    engine, policy = prepare_store(load_settings())
    seed_people(engine)
    st.cache_resource.clear()
    yield engine, policy
    engine.dispose()
    st.cache_resource.clear()


def person(username: str) -> str:
    """The user id of a demo person."""
    return stable_user_id(username)


# The demo's people by the role they play in workflow tests.
DEMO_IDS = {
    "scientist": person("omar"),
    "engineer": person("priya"),
    "compliance": person("daniel"),
    "security": person("sofia"),
    "owner": person("layla"),
}


def open_page(as_user: str | None, page: str | None = None, **state) -> AppTest:
    """Run the app in demo mode as ``as_user`` (None: nobody chosen), on ``page``."""
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if as_user is not None:
        app.session_state["acting_user_id"] = person(as_user)
    for key, value in state.items():
        app.session_state[key] = value
    app.run()
    if page:
        app.switch_page(page).run()
    assert not app.exception, app.exception
    return app


def open_view(
    page: str, *, version: str, model: str = "lead-scoring", **state
) -> AppTest:
    """Run the app on ``page`` with ``model`` and ``version`` chosen, no error allowed."""
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.session_state["model_name"] = model
    app.session_state["version_name"] = version
    for key, value in state.items():
        app.session_state[key] = value
    app.run()
    app.switch_page(page).run()
    assert not app.exception, app.exception
    return app
