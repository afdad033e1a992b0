"""Headless smoke tests of every page, on a seeded SQLite store (AppTest)."""

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from governance.access import stable_user_id
from governance.bootstrap import prepare_store
from governance.demo.world import seed_people
from governance.inventory import register_version
from governance.settings import load_settings

TIMEOUT = 60
APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture
def seeded_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("GOVERNANCE_HOME", str(home))
    monkeypatch.delenv("GOVERNANCE_DATABASE_URL", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    engine, policy = prepare_store(load_settings())
    seed_people(engine)
    for name, version in [
        ("lead-scoring", "1"),
        ("lead-scoring", "2"),
        ("licence-renewal", "1"),
    ]:
        register_version(
            engine,
            actor_id=stable_user_id("omar"),
            policy=policy,
            name=name,
            version=version,
            model_uri=f"models:/{name}/{version}",
            owner_id=stable_user_id("layla"),
            algorithm="logistic regression",
            data_spec={
                "target": "converted",
                "sensitive_features": ["gender"],
                "train": {"rows": 100, "kind": "csv", "sha256": "ab"},
            },
        )
    engine.dispose()
    st.cache_resource.clear()
    yield home
    st.cache_resource.clear()


def _run(page=None, **state):
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in state.items():
        app.session_state[key] = value
    app.run()
    if page:
        app.switch_page(page)
        app.run()
    assert not app.exception, app.exception
    return app


def test_inventory_lists_every_governed_model(seeded_home):
    app = _run()

    assert app.title[0].value == "Model inventory"
    table = app.dataframe[0].value
    assert list(table["Model"]) == ["lead-scoring", "licence-renewal"]
    assert list(table["Versions"]) == [2, 1]
    assert list(table["Risk"]) == ["unassessed", "unassessed"]
    assert list(table["Owner"]) == ["Layla Haddad", "Layla Haddad"]
    assert [metric.value for metric in app.metric] == ["2", "3", "0"]


def test_inventory_search_filters_rows(seeded_home):
    app = _run()

    app.text_input(key="inventory_search").input("renewal").run()

    assert list(app.dataframe[0].value["Model"]) == ["licence-renewal"]


def test_sidebar_shows_the_acting_person_and_role(seeded_home):
    app = _run()
    app.sidebar.selectbox[0].select(stable_user_id("daniel")).run()

    assert app.sidebar.selectbox[0].value == stable_user_id("daniel")
    assert "Daniel Okafor" in app.sidebar.caption[0].value
    assert "Compliance officer" in app.sidebar.caption[0].value


def test_model_page_shows_versions_and_registered_data(seeded_home):
    app = _run("views/model.py", model_name="lead-scoring")

    assert app.title[0].value == "lead-scoring"
    assert list(app.dataframe[0].value["Version"]) == ["2", "1"]
    assert list(app.dataframe[1].value["Rows"]) == [100]
    assert app.expander[0].warning[0].value.startswith("No MLflow store at")


def test_people_page_lists_roles(seeded_home):
    app = _run("views/people.py")

    table = app.dataframe[0].value
    row = table[table["Name"] == "Chen Wei"].iloc[0]
    assert bool(row["Data scientist"])
    assert bool(row["ML engineer"])
    assert not bool(row["Model owner"])


def test_audit_page_verifies_the_chain(seeded_home):
    app = _run("views/audit.py")

    app.button(key="audit_verify").click().run()

    assert app.success[0].value.startswith("Audit chain intact")
    assert "version.registered" in list(app.dataframe[0].value["Event type"])


def test_empty_store_guides_instead_of_failing(tmp_path, monkeypatch):
    monkeypatch.setenv("GOVERNANCE_HOME", str(tmp_path / "empty"))
    st.cache_resource.clear()

    app = _run()

    assert "No models are governed yet" in app.info[0].value
    st.cache_resource.clear()


def test_unreachable_store_shows_a_message_not_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv(
        "GOVERNANCE_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none"
    )
    st.cache_resource.clear()

    app = _run()

    assert app.error[0].value.startswith(
        "Cannot use the store at postgresql+psycopg://nobody@127.0.0.1:1/none"
    )
    st.cache_resource.clear()
