"""Model cards: drafting from evidence, versioned and audited saves, exports."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from governance.audit import verify_chain
from governance.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from governance.evidence import StoredEvidence, latest_evidence
from governance.inventory import VersionRow, register_version
from governance.model_card import (
    SAVED_ACTION,
    SECTIONS,
    card_history,
    card_html,
    card_markdown,
    card_pdf,
    draft_card,
    history_table,
    latest_card,
    missing_sections,
    save_card,
)
from governance.store import read_session
from governance.tables import AuditEvent
from tests.store_support import store_assessment

MODEL = "lead-scoring"
SPEC = {
    "target": "converted",
    "features": ["visits", "budget_aed", "region"],
    "sensitive_features": ["region"],
    "pii_columns": ["email"],
    "timestamp": "created_at",
    "train": {"rows": 12000, "sha256": "a" * 64, "kind": "parquet", "path": "t.pq"},
    "decision_threshold": 0.5,
    "params": {"learning_rate": "0.05"},
}
STANDARD_AUC = {"name": "auc", "value": 0.81, "threshold": 0.75, "passed": True}
STANDARD_PARITY = {
    "name": "demographic_parity_difference (region)",
    "value": 0.23,
    "threshold": 0.1,
    "passed": False,
}
INDICATOR_ODDS = {
    "name": "equalized_odds_difference (region)",
    "value": 0.05,
    "threshold": 0.1,
    "passed": True,
}
EVIDENCE = {
    "decision_threshold": 0.5,
    "assessed_at": "2026-11-30T10:00:00+00:00",
    "policy": {"version": "1.0.0", "content_hash": "f" * 64},
    "model_artifacts": {"sha256": "d" * 64},
    "data": {
        "train": SPEC["train"],
        "test": {"rows": 3000, "sha256": "b" * 64, "kind": "parquet", "path": "s.pq"},
    },
    "data_standards": {
        "rows": 12000,
        "quality_score": 0.99,
        "completeness": 0.98,
        "validity": 1.0,
        "uniqueness": 0.99,
        "consistency": 0.99,
        "missing_share": {"visits": 0.0, "budget_aed": 0.02},
        "column_types": {"visits": "non_negative", "region": "categorical"},
        "duplicate_rows": 3,
        "inconsistent_rows": 7,
        "newest_timestamp": "2026-08-31T00:00:00+00:00",
        "pii_in_features": [],
        "standards": [
            {
                "name": "training_rows",
                "value": 12000,
                "threshold": 10000,
                "passed": True,
            }
        ],
    },
    "performance": {
        "f1": 0.74,
        "standards": [STANDARD_AUC],
        "confusion_matrix": {"tp": 60, "fp": 15, "fn": 20, "tn": 905},
    },
    "fairness": {
        "min_group_size": 100,
        "features": [
            {
                "name": "region",
                "groups": [
                    {"group": "GCC", "count": 900, "selection_rate": 0.31},
                    {"group": "Africa", "count": 150, "selection_rate": 0.08},
                    {"group": "Oceania", "count": 12, "is_too_small": True},
                ],
                "demographic_parity": {
                    "lowest_group": "Africa",
                    "highest_group": "GCC",
                },
                "equalized_odds": {
                    "rate": "true_positive_rate",
                    "lowest_group": "Africa",
                    "highest_group": "GCC",
                },
                "standards": [STANDARD_PARITY],
                "indicators": [INDICATOR_ODDS],
                "passed": False,
            }
        ],
    },
    "drift": {
        "assessed": True,
        "bins": 10,
        "psi_warn": 0.1,
        "psi_retrain": 0.25,
        "psi": {"visits": 0.01, "budget_aed": 0.39},
        "features_to_retrain": ["budget_aed"],
    },
    "explanations": {"rows": 2000, "output_space": "log_odds"},
    "risk": {"level": "high", "score": 0.75, "required_approvers": ["model_owner"]},
    "standards": [STANDARD_AUC, STANDARD_PARITY],
    "indicators": [INDICATOR_ODDS],
}
NOTES = {
    "description": "Ranks inbound free-zone leads for the sales team.",
    "feature_engineering": "Budget converted to AED at the month's rate.",
    "known_limitations": "Not for leads outside the free zone.",
}


@pytest.fixture
def assessed(engine, people, policy):
    """lead-scoring version 1, registered and assessed with ``EVIDENCE``."""
    version_id = register_version(
        engine,
        actor_id=people["scientist"],
        policy=policy,
        name=MODEL,
        version="1",
        model_uri=f"models:/{MODEL}/1",
        owner_id=people["owner"],
        run_id="run-1",
        algorithm="lightgbm",
        data_spec=SPEC,
        description="Lead conversion scores.",
    )
    store_assessment(engine, policy, version_id, evidence=EVIDENCE, passed=False)
    return version_id


ROW = VersionRow(
    id=1,
    version="1",
    stage="development",
    algorithm="lightgbm",
    run_id="run-1",
    model_uri=f"models:/{MODEL}/1",
    registered_at=datetime(2026, 11, 1, tzinfo=UTC),
    registered_by="u-scientist",
    risk_level="high",
    last_assessed_at=None,
    data_spec=SPEC,
)
STORED = StoredEvidence(
    assessment_id=7,
    model=MODEL,
    version="1",
    created_at=datetime(2026, 11, 30, tzinfo=UTC),
    created_by="system",
    passed=False,
    risk_level="high",
    risk_score=0.75,
    policy_version="1.0.0",
    evidence=EVIDENCE,
    artifact_dir=None,
)


def _draft(notes=None):
    return draft_card(ROW, STORED, model=MODEL, description="Lead scores.", notes=notes)


def _save(engine, policy, people, *, who="scientist", notes=NOTES, based_on=None):
    return save_card(
        engine,
        policy,
        actor_id=people[who],
        model=MODEL,
        version="1",
        notes=notes,
        based_on=based_on,
    )


def test_draft_has_the_seven_framework_sections_in_order():
    card = _draft()

    assert [section.title for section in card.sections] == [
        "Model description and purpose",
        "Feature engineering documentation",
        "Training data description",
        "Evaluation methodology",
        "Performance metrics",
        "Known limitations",
        "Bias assessment results",
    ]
    assert all(section.drafted for section in card.sections)
    assert not card.is_saved


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("description", "lightgbm model that predicts converted from 3 features"),
        ("description", "decision threshold 0.5000"),
        ("feature_engineering", "used as model inputs: region"),
        ("feature_engineering", "PII columns declared: email"),
        ("training_data", "- train: 12,000 rows, parquet file t.pq"),
        ("training_data", "- training_rows: 12,000 against threshold 10,000, pass"),
        ("training_data", "Missing values: budget_aed 2.00%."),
        ("evaluation_methodology", "held-out test data (3,000 rows)"),
        ("evaluation_methodology", "above 0.1 is a moderate shift, above 0.25"),
        ("performance_metrics", "- auc: 0.8100 against threshold 0.7500, pass"),
        ("performance_metrics", "60 true positives, 15 false positives"),
        ("known_limitations", "region): 0.2300 against threshold 0.1000, fail"),
        ("known_limitations", "budget_aed drifted past the retraining threshold"),
        ("known_limitations", "1 of 3 groups of region have fewer than 100 rows"),
        ("bias_assessment", "- Africa: 150 rows, selection rate 0.0800"),
        ("bias_assessment", "The bias standard failed for: region."),
    ],
    ids=lambda value: value if len(value) < 30 else value[:30],
)
def test_drafted_text_quotes_the_evidence(key, expected):
    card = _draft()

    assert expected in card.section_texts()[key]


def test_draft_is_deterministic_and_skips_too_small_groups():
    first, second = _draft(), _draft()

    assert first == second
    assert "Oceania:" not in first.section_texts()["bias_assessment"]


def test_unknown_section_in_notes_is_refused():
    with pytest.raises(InvalidInputError, match="Unknown model card sections: purpose"):
        _draft(notes={"purpose": "x"})


def test_required_notes_are_named_when_missing():
    card = _draft(notes={"description": "Ranks leads."})

    assert missing_sections(card) == [
        "Feature engineering documentation",
        "Known limitations",
    ]


def test_saving_creates_versions_with_audit_events(engine, people, policy, assessed):
    first = _save(engine, policy, people)
    second = _save(
        engine,
        policy,
        people,
        notes={**NOTES, "known_limitations": "Also not for renewals."},
        based_on=1,
    )

    assert (first.card_version, second.card_version) == (1, 2)
    history = card_history(engine, MODEL, "1")
    assert [card.card_version for card in history] == [2, 1]
    table = history_table(history, {people["scientist"]: "Scientist"})
    assert table["Card version"] == [2, 1]
    assert table["Saved by"] == ["Scientist", "Scientist"]
    assert latest_card(engine, MODEL, "1").notes()["known_limitations"] == (
        "Also not for renewals."
    )
    with read_session(engine) as session:
        events = session.exec(
            select(AuditEvent).where(AuditEvent.action == SAVED_ACTION)
        ).all()
    payloads = [json.loads(event.payload) for event in events]
    assert [payload["card_version"] for payload in payloads] == [1, 2]
    assert payloads[1]["content_sha256"] == second.content_hash()
    assert {event.actor_id for event in events} == {people["scientist"]}
    assert {event.entity_id for event in events} == {str(assessed)}
    assert second.policy_hash == policy.content_hash
    assert verify_chain(engine).is_intact


def test_saved_card_keeps_the_evidence_text_it_was_drafted_from(
    engine, people, policy, assessed
):
    saved = _save(engine, policy, people)

    assert saved.assessment_id == latest_evidence(engine, MODEL, "1").assessment_id
    assert saved.section_texts()["bias_assessment"].startswith("region (3 groups")
    assert saved.notes()["description"] == NOTES["description"]


@pytest.mark.parametrize("who", ["owner", "compliance"])
def test_only_a_data_scientist_saves_a_card(engine, people, policy, assessed, who):
    with pytest.raises(PermissionDeniedError, match="needs the role Data scientist"):
        _save(engine, policy, people, who=who)

    assert card_history(engine, MODEL, "1") == []


def test_an_empty_required_section_cannot_be_saved(engine, people, policy, assessed):
    notes = {**NOTES, "known_limitations": "   "}

    with pytest.raises(InvalidInputError, match="Known limitations is empty"):
        _save(engine, policy, people, notes=notes)

    assert card_history(engine, MODEL, "1") == []


def test_a_save_based_on_an_old_card_is_refused(engine, people, policy, assessed):
    _save(engine, policy, people)
    _save(engine, policy, people, based_on=1)

    with pytest.raises(ConflictError, match="Card version 2 .* was saved while"):
        _save(engine, policy, people, based_on=1)


def test_a_version_never_assessed_has_no_card(engine, people, policy):
    register_version(
        engine,
        actor_id=people["scientist"],
        policy=policy,
        name=MODEL,
        version="1",
        model_uri="models:/lead-scoring/1",
        owner_id=people["owner"],
        data_spec=SPEC,
    )

    with pytest.raises(NotFoundError, match="has not been assessed"):
        _save(engine, policy, people)


def test_markdown_export_has_every_section_and_the_notes(
    engine, people, policy, assessed
):
    text = card_markdown(_save(engine, policy, people))

    assert text.startswith("# Model card: lead-scoring version 1\n")
    for spec in SECTIONS:
        assert f"\n## {spec.title}\n" in text
    assert NOTES["known_limitations"] in text
    assert "Card version 1, saved" in text


def test_html_export_escapes_typed_markup(engine, people, policy, assessed):
    notes = {**NOTES, "known_limitations": "<script>alert('x')</script> & more"}
    card = _save(engine, policy, people, notes=notes)

    page = card_html(card)

    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" in page
    for spec in SECTIONS:
        assert f"<h2>{spec.title}</h2>" in page
    assert "<li>auc: 0.8100 against threshold 0.7500, pass</li>" in page
    text = card_markdown(card)
    assert "&lt;script&gt;alert('x')&lt;/script&gt; &amp; more" in text


def test_pdf_export_holds_the_sections(engine, people, policy, assessed, tmp_path):
    notes = {**NOTES, "description": "Ranks leads in Dubai — café, Zürich ✓."}

    pdf = card_pdf(_save(engine, policy, people, notes=notes))

    assert pdf.startswith(b"%PDF-")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "card.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    flat = " ".join(text.split())
    for spec in SECTIONS:
        assert spec.title in flat
    assert "Not for leads outside the free zone." in flat
    assert "café, Zürich" in flat
