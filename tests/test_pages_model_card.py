"""The model card page (AppTest) on the assessed demo and on a private copy of it."""

import sqlite3

import pytest
import streamlit as st

from governance.access import stable_user_id
from governance.audit import verify_chain
from governance.bootstrap import prepare_store
from governance.evidence import latest_evidence
from governance.model_card import SECTIONS, card_html, card_markdown, latest_card
from governance.settings import load_settings
from tests.app_support import open_view

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo")]

MODEL = "lead-scoring"
NOTES = {
    "description": "Ranks inbound free-zone leads for the sales team.",
    "feature_engineering": "Budgets converted to AED at the month's rate.",
    "known_limitations": "Not for leads outside the free zone.",
}


def _clear_caches():
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def private_demo(assessed_demo, tmp_path, monkeypatch):
    """A copy of the assessed demo's store that a test may write to."""
    home = tmp_path / "home"
    home.mkdir()
    source = sqlite3.connect(assessed_demo.home / "governance.db")
    target = sqlite3.connect(home / "governance.db")
    source.backup(target)
    source.close()
    target.close()
    monkeypatch.setenv("GOVERNANCE_HOME", str(home))
    monkeypatch.delenv("GOVERNANCE_DATABASE_URL", raising=False)
    _clear_caches()
    engine, _ = prepare_store(load_settings())
    yield engine
    engine.dispose()
    _clear_caches()


def _open(version, person="omar"):
    return open_view(
        "views/model_card.py", version=version, acting_user_id=stable_user_id(person)
    )


def _submit(app, version_id, notes):
    for key, text in notes.items():
        app.text_area(key=f"card_notes_{version_id}_{key}").input(text)
    key = f"FormSubmitter:card_form_{version_id}-Save a new card version"
    app.button(key=key).click().run()
    assert not app.exception, app.exception
    return app


def test_card_drafts_the_seven_sections_from_the_evidence(demo_home):
    engine, _ = prepare_store(demo_home)
    evidence = latest_evidence(engine, MODEL, "3").evidence
    engine.dispose()

    app = _open("3")

    tab = app.tabs[0]
    assert [header.value for header in tab.subheader] == [s.title for s in SECTIONS]
    text = "\n".join(block.value for block in tab.markdown)
    parity = next(
        item
        for item in evidence["standards"]
        if item["name"] == "demographic_parity_difference (nationality_region)"
    )
    assert (
        f"demographic_parity_difference (nationality_region): {parity['value']:.4f} "
        "against threshold 0.1000, fail"
    ) in text
    assert "lead_source drifted past the retraining threshold" in text
    assert "The bias standard failed for: nationality_region" in text


def test_a_version_never_assessed_gets_guidance(demo_home):
    app = _open("1")

    assert "has not been assessed yet" in app.info[0].value
    assert not app.tabs


def test_others_read_the_card_but_get_no_form(demo_home):
    app = _open("3", person="daniel")

    assert app.tabs[1].info[0].value.startswith("Only a data scientist edits")
    assert not app.text_area


def test_saving_creates_an_audited_card_version(private_demo):
    version_id = latest_evidence(private_demo, MODEL, "3").evidence["model_version_id"]
    app = _open("3")

    _submit(app, version_id, NOTES)

    assert app.success[0].value == "Saved card version 1."
    history = app.tabs[2].dataframe[0].value
    assert list(history["Card version"]) == [1]
    assert list(history["Saved by"]) == ["Omar Farouk"]
    card = latest_card(private_demo, MODEL, "3")
    assert card.notes()["known_limitations"] == NOTES["known_limitations"]
    assert verify_chain(private_demo).is_intact

    _submit(app, version_id, {"known_limitations": "Also not for renewals."})

    assert app.success[0].value == "Saved card version 2."
    assert list(app.tabs[2].dataframe[0].value["Card version"]) == [2, 1]
    assert app.tabs[2].selectbox[0].options == ["2", "1"]
    assert len(app.get("download_button")) == 3


def test_an_empty_required_section_is_refused_with_its_name(private_demo):
    version_id = latest_evidence(private_demo, MODEL, "3").evidence["model_version_id"]
    app = _open("3")

    _submit(app, version_id, {**NOTES, "known_limitations": ""})

    assert app.error[0].value.startswith("The model card cannot be saved:")
    assert "Known limitations is empty" in app.error[0].value
    assert latest_card(private_demo, MODEL, "3") is None


def test_typed_markup_is_escaped_in_the_html_export(private_demo):
    version_id = latest_evidence(private_demo, MODEL, "3").evidence["model_version_id"]
    app = _open("3")
    typed = {**NOTES, "known_limitations": "<script>alert(1)</script>"}

    _submit(app, version_id, typed)

    card = latest_card(private_demo, MODEL, "3")
    page = card_html(card)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in card_markdown(card)
    assert app.tabs[0].text[-1].value == "<script>alert(1)</script>"
