"""The audit trail page driven as an auditor would (AppTest, demo mode)."""

import csv
import datetime as dt
import io
import json

import pytest

from governance.audit import chain_head, unit_of_work
from governance.inventory import register_version
from governance.records.checkpoints import audit_key, verify_export, write_checkpoint
from governance.settings import load_settings
from tests.app_support import open_page, person
from tests.records.audit_support import append, tamper

AUDIT = "views/audit.py"


@pytest.fixture
def trail(app_store):
    """The demo people, two versions of churn and 120 padding events."""
    engine, policy = app_store
    for version in ("1", "2"):
        register_version(
            engine,
            actor_id=person("omar"),
            policy=policy,
            name="churn",
            version=version,
            model_uri=f"models:/churn/{version}",
            owner_id=person("layla"),
        )
    with unit_of_work(engine) as work:
        work.record(
            actor_id=person("daniel"),
            action="incident.opened",
            entity_type="incident",
            entity_id="1",
            payload={"model": "churn", "version": "2"},
        )
    append(engine, 120)
    return engine


def _table(app):
    return app.dataframe[0].value


def test_newest_events_first_a_page_at_a_time(trail):
    head, _ = chain_head(trail)

    app = open_page("daniel", AUDIT)

    assert app.title[0].value == "Audit trail"
    assert list(_table(app)["#"]) == list(range(head, head - 50, -1))
    assert app.button(key="audit_newer").disabled
    assert "No signed checkpoint yet" in app.main.caption[1].value

    app.button(key="audit_older").click().run()
    assert list(_table(app)["#"]) == list(range(head - 50, head - 100, -1))
    app.button(key="audit_older").click().run()
    last = _table(app)
    assert list(last["#"]) == list(range(head - 100, 0, -1))
    assert app.button(key="audit_older").disabled

    app.button(key="audit_newer").click().run()
    assert _table(app)["#"].iloc[0] == head - 50


def test_filters_select_the_events_and_reset_the_page(trail):
    app = open_page("daniel", AUDIT)
    app.button(key="audit_older").click().run()

    app.selectbox(key="audit_model").select("churn").run()
    by_model = _table(app)
    app.selectbox(key="audit_version").select("2").run()
    by_version = _table(app)
    app.selectbox(key="audit_model").select("(any)").run()
    app.selectbox(key="audit_actor").select(person("daniel")).run()
    by_actor = _table(app)

    assert not app.exception
    assert list(by_model["Event type"]) == [
        "incident.opened",
        "version.registered",
        "version.registered",
        "model.registered",
    ]
    assert list(by_version["Event type"]) == ["incident.opened", "version.registered"]
    assert list(by_actor["Actor"]) == ["daniel"]
    assert app.button(key="audit_newer").disabled  # back on the first page


def test_event_type_and_dates(trail):
    app = open_page("daniel", AUDIT)

    app.multiselect(key="audit_actions").select("model.registered").run()
    assert list(_table(app)["Event type"]) == ["model.registered"]

    app.date_input(key="audit_from").set_value(dt.date(2026, 1, 2)).run()
    app.date_input(key="audit_to").set_value(dt.date(2026, 1, 1)).run()
    assert "start must come before its end" in app.error[0].value

    app.date_input(key="audit_to").set_value(dt.date(2026, 1, 3)).run()
    assert len(_table(app)) == 0
    assert "none match" in app.main.caption[-2].value


@pytest.fixture
def downloads(monkeypatch):
    """The deferred data of each download button rendered, by file name.

    A browser's click runs the callable on the server; this runs it directly.
    """
    from streamlit.runtime.media_file_manager import MediaFileManager

    found = {}
    original = MediaFileManager.add_deferred

    def capture(self, data_callable, mimetype, coordinates, file_name=None, **kw):
        found[file_name] = data_callable
        return original(self, data_callable, mimetype, coordinates, file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", capture)
    return found


def test_export_buttons_download_the_filtered_events(trail, downloads):
    app = open_page("daniel", AUDIT)
    labels = [button.proto.label for button in app.get("download_button")]
    whole = downloads["audit-all.jsonl"]()

    app.selectbox(key="audit_model").select("churn").run()
    app.selectbox(key="audit_version").select("2").run()
    csv_rows = list(csv.reader(io.StringIO(downloads["audit-filtered.csv"]())))
    jsonl = downloads["audit-filtered.jsonl"]().splitlines()
    key = audit_key(load_settings())

    assert labels == ["Download CSV", "Download JSONL (verifiable)"]
    assert verify_export(whole.splitlines(), key=key).head_seq == chain_head(trail)[0]
    assert [row[3] for row in csv_rows] == [
        "action",
        "version.registered",
        "incident.opened",
    ]
    verified = verify_export(jsonl, key=key)
    assert verified.is_intact
    assert verified.is_filtered
    assert verified.events_checked == 2
    assert json.loads(jsonl[0])["audit_export"]["filters"] == {
        "model": "churn",
        "version": "2",
    }


def test_verify_intact_then_broken_chain(trail):
    settings = load_settings()
    write_checkpoint(settings, trail)

    app = open_page("daniel", AUDIT)
    app.button(key="audit_verify").click().run()

    assert app.success[0].value.startswith("Audit chain intact: ")
    assert "1 signed checkpoint(s) match" in app.success[0].value
    assert "Latest signed checkpoint: event #" in app.main.caption[1].value

    tamper(trail, "UPDATE audit_event SET payload = '{}' WHERE seq = 40")
    app.button(key="audit_verify").click().run()

    assert app.error[0].value.startswith(
        "Audit chain broken at sequence number 40: its content does not match"
    )


def test_verify_finds_a_cut_tail_by_its_checkpoint(trail):
    write_checkpoint(load_settings(), trail)
    head, _ = chain_head(trail)
    tamper(trail, f"DELETE FROM audit_event WHERE seq > {head - 5}")

    app = open_page("daniel", AUDIT)
    app.button(key="audit_verify").click().run()

    assert app.error[0].value.startswith(
        f"Audit chain broken at sequence number {head - 4}:"
    )
    assert "tail was removed" in app.error[0].value
