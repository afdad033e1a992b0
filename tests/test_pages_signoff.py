"""The sign-off pages driven as the demo people would (AppTest, demo mode)."""

import datetime as dt
import json
import pickle

import pytest
from sqlmodel import select

from governance.audit import verify_chain
from governance.errors import PermissionDeniedError
from governance.operations.serving import decision_thresholds
from governance.store import read_session, write_session
from governance.tables import AuditEvent, ModelVersion
from governance.workflow import advance_rollout, requests_of_version, rollout_status
from governance.workflow_tables import ApprovalRequest
from tests.app_support import DEMO_IDS as DEMO
from tests.app_support import open_page, person
from tests.operations.serving_support import passing_log
from tests.workflow.conftest import (
    REQUEST,
    SECTIONS,
    add_assessment,
    register,
    walk_to_approval,
)

REVIEW, REQUEST_PAGE = "views/review.py", "views/request.py"
DEPLOYMENT, INBOX = "views/deployment.py", "views/inbox.py"


@pytest.mark.parametrize(
    "page", [INBOX, DEPLOYMENT, "views/incidents.py", "views/calendar.py"]
)
def test_a_page_that_acts_tells_a_demo_visitor_to_choose_a_person(app_store, page):
    app = open_page(None, page)

    assert [item.value for item in app.info] == [
        "Choose a demo person under **Acting as** in the sidebar to act here."
    ]


@pytest.fixture
def artifacts(tmp_path):
    """A folder of model artifacts holding one benign pickle."""
    folder = tmp_path / "artifacts"
    folder.mkdir()
    (folder / "model.pkl").write_bytes(pickle.dumps({"weights": [0.1, 0.2]}))
    return folder


@pytest.fixture
def version(app_store, monkeypatch, artifacts):
    """lead-scoring 1, registered by omar; its artifacts are a local folder."""
    engine, policy = app_store
    monkeypatch.setattr(
        "governance.signoff.fetch_model_artifacts", lambda *_args: artifacts
    )
    return register(engine, DEMO, policy)


def _click(app, key):
    app.button(key=key).click().run()
    assert not app.exception, app.exception
    return app


def _submit(app, form, label, **fields):
    for key, value in fields.items():
        widget = next(w for w in (*app.text_area, *app.text_input) if w.key == key)
        widget.input(value)
    return _click(app, f"FormSubmitter:{form}-{label}")


def _stage(engine, version_id):
    with read_session(engine) as session:
        return session.get(ModelVersion, version_id).stage


def _succeeded(app):
    """The success messages, the outcome of the last action first."""
    return [item.value for item in app.success]


def test_a_version_goes_from_documentation_to_production_through_the_pages(
    app_store, version, monkeypatch, tmp_path
):
    engine, policy = app_store

    docs = {f"doc_{key}": text for key, text in SECTIONS.items()}
    app = _submit(
        open_page("omar", REVIEW),
        "stage_documentation",
        "Mark the documentation done",
        **docs,
    )
    assert _succeeded(app)[0] == "Documentation recorded."
    app = _submit(
        open_page("priya", REVIEW),
        "stage_internal_review",
        "Record",
        stage_internal_review_comment="Pipeline reviewed.",
    )
    assert _succeeded(app)[0] == "Internal review recorded."
    _click(open_page("omar", REVIEW), "stage_advance")
    assert _stage(engine, version) == "risk_assessment"

    add_assessment(engine, policy, version, level="high")
    app = open_page("sofia", REVIEW)
    for box in app.checkbox:
        box.check()
    app = _click(
        app, "FormSubmitter:stage_security-Scan the artifacts and record the assessment"
    )
    assert _succeeded(app)[0] == "Security assessment recorded."
    _click(open_page("daniel", REVIEW), "stage_advance")
    assert _stage(engine, version) == "compliance_check"

    app = open_page("daniel", REVIEW)
    app = _submit(
        app,
        "stage_compliance_validation",
        "Record",
        stage_compliance_validation_comment="Valid.",
    )
    app = _submit(
        app,
        "stage_documentation_review",
        "Record",
        stage_documentation_review_comment="Complete.",
    )
    app = _click(app, "stage_verify_audit")
    app = _submit(
        app,
        "stage_regulatory_check",
        "Record the regulatory check",
        regulatory_comment="Lawful basis documented.",
    )
    assert _succeeded(app)[0] == "Regulatory check recorded."
    _click(app, "stage_advance")
    assert _stage(engine, version) == "approval"

    fields = {f"request_{key}": text for key, text in REQUEST.items()}
    app = _submit(
        open_page("omar", REQUEST_PAGE), "request_form", "Submit the request", **fields
    )
    assert _succeeded(app) == [
        "Approval requested; the approvers see it in their inbox."
    ]

    for name in ("layla", "daniel", "sofia"):
        app = open_page(name, REVIEW)
        app.text_area(key="review_comment").input(f"{name} read the evidence.")
        _click(app, "review_approve")
    assert _stage(engine, version) == "deployment"

    app = open_page("priya", DEPLOYMENT)
    assert _succeeded(app) == [
        "The deployment gate is open: nothing blocks the rollout."
    ]
    app = _click(app, "deployment_step")
    app = _click(app, "deployment_step")
    app = _click(app, "deployment_step")
    assert app.error[0].value.startswith("Shadow testing runs at least 7 days")

    clock = {
        "now": dt.datetime.now(dt.UTC)
        + dt.timedelta(days=policy.deployment.shadow_min_days)
    }
    monkeypatch.setattr("governance.workflow.rollout.utc_now", lambda: clock["now"])
    monkeypatch.setattr("governance.operations.serving.utc_now", lambda: clock["now"])
    steps = [
        ("shadow", None),
        ("canary-10", 10),
        ("canary-50", 50),
        ("canary-100", 100),
    ]
    for label, share in steps:
        # Each step is left with passing evidence computed on the page from the
        # serving platform's log of the step's window.
        taken_at = dict(rollout_status(engine, policy, version))[label]
        clock["now"] = max(clock["now"], taken_at + dt.timedelta(days=1))
        log = passing_log(
            tmp_path,
            candidate="1",
            start=taken_at,
            end=clock["now"] - dt.timedelta(minutes=1),
            share=share,
            thresholds=decision_thresholds(engine, "lead-scoring"),
        )
        app.text_input(key="deployment_log").input(str(log))
        app = _click(app, "deployment_evidence")
        assert _succeeded(app)[0] == f"{label} evidence computed from {log}."
        app = _click(app, "deployment_step")
    assert _stage(engine, version) == "production"
    assert list(app.dataframe[1].value["Step"]) == [
        "staging",
        "shadow",
        "canary-10",
        "canary-50",
        "canary-100",
        "production",
    ]
    app = _click(app, "deployment_tick_monitoring_active")
    assert _succeeded(app)[0] == "Monitoring active: ticked."

    assert verify_chain(engine).is_intact
    with read_session(engine) as session:
        events = session.exec(select(AuditEvent).order_by(AuditEvent.seq)).all()
    moves = [
        (json.loads(e.payload)["to"], e.actor_id)
        for e in events
        if e.action == "version.stage_changed"
    ]
    assert moves == [
        ("risk_assessment", person("omar")),
        ("compliance_check", person("daniel")),
        ("approval", person("daniel")),
        ("deployment", person("sofia")),
        ("production", person("priya")),
    ]
    approvers = [e.actor_id for e in events if e.action == "approval.approved"]
    assert approvers == [person(name) for name in ("layla", "daniel", "sofia")]


@pytest.fixture
def requested(app_store, version, artifacts):
    """lead-scoring 1 in the approval stage with omar's pending request."""
    engine, policy = app_store
    walk_to_approval(engine, DEMO, policy, version, artifacts, level="high")
    app = open_page("omar", REQUEST_PAGE)
    fields = {f"request_{key}": text for key, text in REQUEST.items()}
    _submit(app, "request_form", "Submit the request", **fields)
    return requests_of_version(engine, version)[0]


def test_review_page_shows_the_bound_evidence(app_store, requested):
    _, policy = app_store
    app = open_page("layla", REVIEW)

    standards = app.dataframe[0].value
    assert list(standards["Standard"]) == ["auc", "demographic_parity_difference"]
    assert list(standards["Value"]) == ["0.810", ""]
    assert [metric.value for metric in app.metric] == ["1", "high", policy.version]
    digest = f"Artifact digest (SHA-256): {'d' * 64}"
    assert digest in [caption.value for caption in app.main.caption]
    assert [text.value for text in app.text][:2] == [
        REQUEST["purpose"],
        REQUEST["changes"],
    ]


def test_rejection_comment_is_shown_as_text_not_markup(app_store, requested):
    engine, _ = app_store
    comment = "<b>Not</b> **this** [link](https://example.org) <script>x()</script>"

    app = open_page("layla", REVIEW)
    app.text_area(key="review_comment").input(comment)
    _click(app, "review_reject")

    assert (
        requests_of_version(engine, requested.model_version_id)[0].status == "rejected"
    )
    history = open_page("omar", REQUEST_PAGE).dataframe[1].value
    assert list(history["Rejected because"]) == [comment]
    rendered = [item.value for item in open_page("omar", REQUEST_PAGE).markdown]
    assert not any("<b>" in text or "<script>" in text for text in rendered)


def test_the_requester_is_not_offered_the_decision(app_store, requested):
    app = open_page("omar", REVIEW)

    assert (
        app.main.info[-1].value
        == "You requested this approval, so you do not decide it."
    )
    assert [button.key for button in app.button] == []


@pytest.fixture
def approved(app_store, requested):
    """The request approved by the three approvers its risk level needs."""
    for name in ("layla", "daniel", "sofia"):
        app = open_page(name, REVIEW)
        _click(app, "review_approve")
    return requested


def test_deployment_actions_are_hidden_from_and_refused_to_other_roles(
    app_store, approved
):
    engine, policy = app_store
    app = open_page("layla", DEPLOYMENT)

    assert "deployment_step" not in [button.key for button in app.button]
    with pytest.raises(PermissionDeniedError, match="ML engineer"):
        advance_rollout(
            engine,
            actor_id=person("layla"),
            policy=policy,
            version_id=approved.model_version_id,
            step="staging",
        )


def test_deployment_opens_on_the_approved_version_not_a_newer_draft(
    app_store, approved
):
    engine, policy = app_store
    register(engine, DEMO, policy, version="2")

    app = open_page("priya", DEPLOYMENT)

    assert app.selectbox(key="deployment_version").options == ["2", "1"]
    assert app.selectbox(key="deployment_version").value == "1"
    assert "deployment_step" in [button.key for button in app.button]


def test_inbox_lists_the_decision_and_marks_it_overdue(app_store, requested):
    engine, _ = app_store
    with write_session(engine) as session:
        row = session.get(ApprovalRequest, requested.id)
        row.requested_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=6)
        session.add(row)

    app = open_page("layla", INBOX)

    table = app.dataframe[0].value
    assert list(table["What"]) == ["Decide approval request 1 as model owner"]
    assert list(table["Overdue"]) == ["⚠ overdue"]
    assert list(table["Days waiting"]) == [6]
    assert app.warning[0].value == "1 of 1 items have waited more than 5 days."

    _click(app, "inbox_open")
    assert app.title[0].value == "Review and decide"


def test_a_person_without_a_role_in_the_request_sees_nothing_to_decide(
    app_store, requested
):
    app = open_page("priya", REVIEW)

    assert app.main.caption[-1].value == (
        "None of your roles fills an open approval slot of this request."
    )
    assert "review_approve" not in [button.key for button in app.button]
