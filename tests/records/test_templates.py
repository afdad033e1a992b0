"""The framework's templates are what the forms and checklists follow."""

from __future__ import annotations

import inspect
import shutil
import subprocess

import pytest

from governance.cli import main
from governance.errors import NotFoundError
from governance.records import templates as tpl
from governance.workflow import (
    APPROVAL_TEMPLATE,
    POST_DEPLOYMENT,
    PRE_DEPLOYMENT,
    SECURITY_QUESTIONS,
    advance_stage,
    allowed_roles,
    complete_documentation,
    post_deployment_checklist,
    pre_deployment_checklist,
    record_internal_review,
    request_approval,
)
from governance.workflow.stages import SIGNOFFS
from tests.app_support import open_page, person
from tests.workflow.conftest import SECTIONS, register, walk_to_approval

REQUEST_PAGE, REVIEW_PAGE = "views/request.py", "views/review.py"


def _fields(template, heading):
    return template.part(heading).fields


def test_the_approval_template_is_the_request_forms_fields(policy):
    fields = _fields(tpl.approval_request_template(policy), tpl.REQUEST_PART)

    assert {f.key: f.label for f in fields} == dict(APPROVAL_TEMPLATE)
    parameters = inspect.signature(request_approval).parameters
    assert all(parameters[f.key].kind is inspect.Parameter.KEYWORD_ONLY for f in fields)
    assert set(tpl.APPROVAL_GUIDANCE) == set(APPROVAL_TEMPLATE)


def test_the_mitigation_plan_is_required_where_the_policy_says(policy):
    fields = _fields(tpl.approval_request_template(policy), tpl.REQUEST_PART)
    required = {f.key: f.required for f in fields}

    assert required["mitigation_plan"] == "at risk level high"
    assert policy.risk.mitigation_plan_required == ["high"]
    assert {required[k] for k in ("purpose", "changes", "risk_summary")} == {"yes"}


@pytest.fixture
def in_approval(app_store, tmp_path):
    """lead-scoring 1 in the approval stage, walked there by the demo people."""
    import pickle

    engine, policy = app_store
    folder = tmp_path / "artifacts"
    folder.mkdir()
    (folder / "model.pkl").write_bytes(pickle.dumps({"weights": [0.1]}))
    demo = {
        "scientist": person("omar"),
        "engineer": person("priya"),
        "compliance": person("daniel"),
        "security": person("sofia"),
        "owner": person("layla"),
    }
    version_id = register(engine, demo, policy)
    walk_to_approval(engine, demo, policy, version_id, folder)
    return engine, policy, version_id


def test_the_request_page_draws_the_template_fields(in_approval):
    _, policy, _ = in_approval

    app = open_page("omar", REQUEST_PAGE, model_name="lead-scoring", version_name="1")

    areas = [w for w in app.text_area if (w.key or "").startswith("request_")]
    fields = _fields(tpl.approval_request_template(policy), tpl.REQUEST_PART)
    assert [(w.key, w.label) for w in areas] == [
        (f"request_{f.key}", f.label) for f in fields
    ]


def test_the_security_form_asks_the_templates_questions(app_store):
    engine, policy = app_store
    demo = {"scientist": person("omar"), "owner": person("layla")}
    version_id = register(engine, demo, policy)
    complete_documentation(
        engine, actor_id=person("omar"), version_id=version_id, sections=SECTIONS
    )
    record_internal_review(
        engine, actor_id=person("priya"), version_id=version_id, comment="Reviewed."
    )
    advance_stage(engine, actor_id=person("omar"), policy=policy, version_id=version_id)

    app = open_page("sofia", REVIEW_PAGE, model_name="lead-scoring", version_name="1")

    boxes = [w for w in app.checkbox if (w.key or "").startswith("security_")]
    fields = _fields(tpl.risk_assessment_template(policy), tpl.SECURITY_PART)
    assert [(w.key, w.label) for w in boxes] == [
        (f"security_{f.key}", f.title) for f in fields
    ]


def test_the_risk_template_holds_the_security_officers_questions(policy):
    template = tpl.risk_assessment_template(policy)

    questions = _fields(template, tpl.SECURITY_PART)
    assert {f.key: f.title for f in questions} == dict(SECURITY_QUESTIONS)
    factors = [f.key for f in _fields(template, tpl.FACTORS_PART)]
    assert factors == ["data_quality", "performance", "bias", "stability", "security"]
    level = {f.key: f.guidance for f in _fields(template, tpl.LEVEL_PART)}
    assert "medium from 0.4 to 0.7, high above 0.7" in level["level"]
    assert (
        "high: Model owner + Compliance officer + Security officer"
        in (level["approvers"])
    )


def test_the_checklist_template_is_the_checklists(engine, people, policy):
    template = tpl.compliance_checklist_template(policy)
    version_id = register(engine, people, policy)

    pre = _fields(template, tpl.PRE_PART)
    post = _fields(template, tpl.POST_PART)
    assert [(f.key, f.title) for f in pre] == list(PRE_DEPLOYMENT.items())
    assert [(f.key, f.title) for f in post] == list(POST_DEPLOYMENT.items())
    assert [(i.key, i.title) for i in pre_deployment_checklist(engine, version_id)] == [
        (f.key, f.title) for f in pre
    ]
    assert [
        (i.key, i.title) for i in post_deployment_checklist(engine, version_id)
    ] == [(f.key, f.title) for f in post]
    assert post[0].required == "ML engineer"
    assert allowed_roles("post_deployment.monitoring_active") == ("ml_engineer",)
    signoffs = [
        *(f.key for f in _fields(template, tpl.DEVELOPMENT_PART)),
        *(f.key for f in _fields(template, tpl.COMPLIANCE_PART)),
    ]
    assert sorted(signoffs) == sorted(SIGNOFFS)


def test_every_checklist_item_has_guidance():
    assert set(tpl.PRE_DEPLOYMENT_GUIDANCE) == set(PRE_DEPLOYMENT)
    assert set(tpl.POST_DEPLOYMENT_GUIDANCE) == set(POST_DEPLOYMENT)
    assert set(tpl.SIGNOFF_TITLES) == set(SIGNOFFS)


@pytest.mark.parametrize(
    "key", ["model_approval_request", "risk_assessment", "compliance_checklist"]
)
def test_templates_download_as_markdown_and_pdf(policy, key, tmp_path):
    template = tpl.get_template(policy, key)

    markdown = tpl.template_markdown(template, policy)
    pdf = tpl.template_pdf(template, policy)

    assert markdown.startswith(f"# {template.title}\n")
    for part in template.parts:
        assert f"## {part.heading}" in markdown
        for field in part.fields:
            assert field.title.replace("&", "&amp;") in markdown
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "template.pdf"
    path.write_bytes(pdf)
    text = " ".join(
        subprocess.run(
            ["pdftotext", str(path), "-"], check=True, capture_output=True, text=True
        ).stdout.split()
    )
    assert template.title in text
    for part in template.parts:
        assert part.heading in text


def test_checklist_markdown_has_boxes(policy):
    markdown = tpl.template_markdown(
        tpl.get_template(policy, "compliance_checklist"), policy
    )

    assert "- [ ] Model performance meets thresholds:" in markdown
    assert "- [ ] Runbook created:" in markdown


def test_an_unknown_template_is_refused(policy):
    with pytest.raises(NotFoundError, match="compliance_checklist"):
        tpl.get_template(policy, "incident_report")


def test_cli_writes_a_template(tmp_path, policy, monkeypatch, capsys):
    out = tmp_path / "request.md"

    code = main(
        ["report", "template", "--name", "model_approval_request", "--out", str(out)]
    )

    assert code == 0
    assert out.read_text(encoding="utf-8") == tpl.template_markdown(
        tpl.approval_request_template(policy), policy
    )
    assert str(out) in capsys.readouterr().out
