"""Model cards: the framework's seven documentation sections, drafted from evidence.

The framework ("Documentation Requirements") asks for a model description and
purpose, feature engineering documentation, a training data description, the
evaluation methodology, performance metrics, known limitations and bias assessment
results. Each section of a card has two parts:

- ``drafted``: text written by the console from the version's registration and its
  latest stored evidence. It is deterministic (the same evidence gives the same
  words) and quotes the numbers with the thresholds they were compared with, as
  stored in the evidence, so a card reads as the assessment it came from.
- ``notes``: what only people know (the purpose, how features are derived,
  limitations the data cannot show). Some sections cannot be saved without them.

Saving never trusts a drafted text from the caller: the domain drafts again from
the stored evidence, checks the notes, and writes a new card version with its
audit event in one transaction. Only a data scientist saves a card.

Exports (Markdown, HTML and PDF) render one card. The HTML export escapes every
text, drafted or typed, so a note cannot inject markup.
"""

from __future__ import annotations

import hashlib
import html
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from governance.access import require_role
from governance.audit import canonical_json, unit_of_work
from governance.errors import ConflictError, InvalidInputError, NotFoundError
from governance.evidence import StoredEvidence, latest_evidence
from governance.inventory import VersionRow, get_model, list_versions
from governance.model_card_tables import ModelCardVersion
from governance.policy import Policy
from governance.store import read_session
from governance.workflow.stages import DOCUMENTATION_SECTIONS

logger = logging.getLogger(__name__)

EDITING_ROLE = "data_scientist"
SAVED_ACTION = "model_card.saved"
# Folders searched for DejaVu Sans (Debian, Arch, Fedora); without it the PDF
# falls back to a core font and replaces characters outside latin-1.
PDF_FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("/usr/share/fonts/dejavu-sans-fonts"),
)


@dataclass(frozen=True)
class SectionSpec:
    """One documentation section: its title and what people are asked to add."""

    key: str
    title: str
    notes_prompt: str
    is_notes_required: bool


SECTIONS: tuple[SectionSpec, ...] = (
    SectionSpec(
        "description",
        DOCUMENTATION_SECTIONS["description"],
        "Purpose: the decision the model supports, who uses it, and what it must "
        "not be used for.",
        True,
    ),
    SectionSpec(
        "feature_engineering",
        DOCUMENTATION_SECTIONS["feature_engineering"],
        "How each feature is derived from the source data: transformations, "
        "encodings, exclusions and why.",
        True,
    ),
    SectionSpec(
        "training_data",
        DOCUMENTATION_SECTIONS["training_data"],
        "Where the data comes from, the period it covers, and how it was labelled.",
        False,
    ),
    SectionSpec(
        "evaluation_methodology",
        DOCUMENTATION_SECTIONS["evaluation_methodology"],
        "Further validation the team did (back-testing, reviews by experts).",
        False,
    ),
    SectionSpec(
        "performance_metrics",
        DOCUMENTATION_SECTIONS["performance_metrics"],
        "What the metrics mean for the business decision.",
        False,
    ),
    SectionSpec(
        "known_limitations",
        DOCUMENTATION_SECTIONS["known_limitations"],
        "Limitations the team knows of: populations, conditions or uses where the "
        "model should not be relied on.",
        True,
    ),
    SectionSpec(
        "bias_assessment",
        DOCUMENTATION_SECTIONS["bias_assessment"],
        "How the disparities found were assessed for fairness-related harm, and "
        "what mitigates them.",
        False,
    ),
)
_SPECS = {spec.key: spec for spec in SECTIONS}


@dataclass(frozen=True)
class CardSection:
    """One section of a card: the console's draft and the people's notes."""

    key: str
    title: str
    drafted: str
    notes: str

    @property
    def text(self) -> str:
        """The drafted text followed by the notes, as one text."""
        return "\n\n".join(part for part in (self.drafted, self.notes) if part)


@dataclass(frozen=True)
class ModelCard:
    """A card of one model version: a draft, or a saved card version."""

    model: str
    version: str
    model_version_id: int
    sections: tuple[CardSection, ...]
    assessment_id: int | None
    card_version: int | None = None
    edited_by: str | None = None
    created_at: datetime | None = None
    policy_version: str | None = None
    policy_hash: str | None = None

    @property
    def is_saved(self) -> bool:
        """Whether this card is a stored card version rather than a draft."""
        return self.card_version is not None

    def notes(self) -> dict[str, str]:
        """The people's notes per section key."""
        return {section.key: section.notes for section in self.sections}

    def section_texts(self) -> dict[str, str]:
        """The full text per section key (the form the documentation sign-off takes)."""
        return {section.key: section.text for section in self.sections}

    def content_hash(self) -> str:
        """SHA-256 of the sections in canonical JSON (what the audit event binds)."""
        return hashlib.sha256(
            canonical_json(_sections_json(self.sections)).encode("utf-8")
        ).hexdigest()


# -- drafting ---------------------------------------------------------------------


def draft_card(
    row: VersionRow,
    stored: StoredEvidence,
    *,
    model: str,
    description: str | None = None,
    notes: Mapping[str, str] | None = None,
) -> ModelCard:
    """Draft every section of a card from a version and its stored evidence.

    Parameters
    ----------
    row
        The model version, as the inventory lists it.
    stored
        The version's stored evidence the draft is written from.
    model
        The model's name.
    description
        The model's description from registration, quoted in the first section.
    notes
        People's notes per section key; unknown keys are refused.

    Returns
    -------
    ModelCard
        An unsaved card (``card_version`` is None).

    Raises
    ------
    InvalidInputError
        When ``notes`` names a section the framework does not have.
    """
    notes = dict(notes or {})
    unknown = sorted(set(notes) - set(_SPECS))
    if unknown:
        raise InvalidInputError(
            f"Unknown model card sections: {', '.join(unknown)}. The sections are "
            f"{', '.join(_SPECS)}."
        )
    evidence = stored.evidence
    drafts = {
        "description": _draft_description(row, model, description, evidence),
        "feature_engineering": _draft_features(row, evidence),
        "training_data": _draft_training_data(evidence),
        "evaluation_methodology": _draft_methodology(evidence),
        "performance_metrics": _draft_performance(evidence),
        "known_limitations": _draft_limitations(evidence),
        "bias_assessment": _draft_bias(evidence),
    }
    sections = tuple(
        CardSection(
            spec.key, spec.title, drafts[spec.key], notes.get(spec.key, "").strip()
        )
        for spec in SECTIONS
    )
    return ModelCard(model, row.version, row.id, sections, stored.assessment_id)


def _number(value: Any, digits: int = 4) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{digits}f}"


def _verdict(passed: bool | None) -> str:
    return {True: "pass", False: "fail", None: "not assessed"}[passed]


def _standard_line(standard: Mapping[str, Any]) -> str:
    return (
        f"- {standard['name']}: {_number(standard['value'])} against threshold "
        f"{_number(standard['threshold'])}, {_verdict(standard['passed'])}"
    )


def _draft_description(
    row: VersionRow, model: str, description: str | None, evidence: Mapping[str, Any]
) -> str:
    spec = row.data_spec
    features = list(spec.get("features", []))
    risk = evidence.get("risk") or {}
    lines = [
        f"{model} version {row.version} is a {row.algorithm or 'classification'} "
        f"model that predicts {spec.get('target', 'the target')} from "
        f"{len(features)} features. A row scoring at or above the decision threshold "
        f"{_number(evidence.get('decision_threshold'))} is classified positive.",
        f"Registered from {row.model_uri} (MLflow run {row.run_id or 'not recorded'}); "
        f"model artifacts SHA-256 "
        f"{(evidence.get('model_artifacts') or {}).get('sha256', 'not recorded')}. "
        f"Stage when drafted: {row.stage}.",
    ]
    if risk:
        lines.append(
            f"Risk level {risk.get('level')} (score {_number(risk.get('score'), 2)}), "
            f"approvers required: {', '.join(risk.get('required_approvers', []))}."
        )
    if description:
        lines.append(f"Registered description: {description}")
    return "\n\n".join(lines)


def _draft_features(row: VersionRow, evidence: Mapping[str, Any]) -> str:
    spec = row.data_spec
    features = list(spec.get("features", []))
    types = (evidence.get("data_standards") or {}).get("column_types", {})
    sensitive = list(spec.get("sensitive_features", []))
    used = [name for name in sensitive if name in features]
    data = evidence.get("data_standards") or {}
    lines = [
        "Input features: "
        + ", ".join(
            f"{name} ({types.get(name, 'type not checked')})" for name in features
        )
        + ".",
        f"Sensitive features assessed for disparity: {', '.join(sensitive) or 'none'}; "
        f"used as model inputs: {', '.join(used) or 'none'}.",
        f"PII columns declared: {', '.join(spec.get('pii_columns', [])) or 'none'}; "
        f"PII used as features: {', '.join(data.get('pii_in_features', [])) or 'none'}.",
    ]
    params = spec.get("params") or {}
    if params:
        shown = ", ".join(f"{key}={params[key]}" for key in sorted(params))
        lines.append(f"Training parameters logged with the run: {shown}.")
    return "\n\n".join(lines)


def _data_line(part: str, info: Mapping[str, Any] | None) -> str:
    if not info:
        return f"- {part}: not registered"
    delta = info.get("delta_version")
    version = f", Delta version {delta}" if delta is not None else ""
    return (
        f"- {part}: {_number(info.get('rows'))} rows, {info.get('kind')} file "
        f"{info.get('path')} (SHA-256 {info.get('sha256')}{version})"
    )


def _draft_training_data(evidence: Mapping[str, Any]) -> str:
    data = evidence.get("data") or {}
    quality = evidence.get("data_standards") or {}
    missing = {
        name: share for name, share in quality.get("missing_share", {}).items() if share
    }
    lines = [
        "Data the version was registered with:",
        *(_data_line(part, data.get(part)) for part in ("train", "test", "current")),
        "",
        "Data standards of the training data:",
        *(_standard_line(standard) for standard in quality.get("standards", [])),
        "",
        f"Quality score parts: completeness {_number(quality.get('completeness'))}, "
        f"validity {_number(quality.get('validity'))}, uniqueness "
        f"{_number(quality.get('uniqueness'))}, consistency "
        f"{_number(quality.get('consistency'))}; {quality.get('duplicate_rows', 0)} "
        f"duplicate rows, {quality.get('inconsistent_rows', 0)} inconsistent rows. "
        f"Newest training row: {quality.get('newest_timestamp') or 'unknown'}. "
        "Missing values: "
        + (
            ", ".join(f"{name} {share:.2%}" for name, share in sorted(missing.items()))
            or "none"
        )
        + ".",
    ]
    return "\n".join(lines)


def _draft_methodology(evidence: Mapping[str, Any]) -> str:
    data = evidence.get("data") or {}
    fairness = evidence.get("fairness") or {}
    drift = evidence.get("drift") or {}
    explanations = evidence.get("explanations") or {}
    policy = evidence.get("policy") or {}
    test_rows = (data.get("test") or {}).get("rows")
    lines = [
        f"The model scored the held-out test data ({_number(test_rows)} rows) once; "
        "every number in this card comes from those stored scores, assessed at "
        f"{evidence.get('assessed_at')} under policy {policy.get('version')} "
        f"(content hash {policy.get('content_hash')}).",
        "Performance: AUC, precision, recall, F1 and Brier score on the test data at "
        f"the decision threshold {_number(evidence.get('decision_threshold'))}.",
        "Bias: selection rate, true and false positive rates per group of each "
        "sensitive feature and of their intersection; the demographic parity "
        "difference is the standard, the equalized odds difference an indicator. "
        f"Groups under {_number(fairness.get('min_group_size'))} rows are reported "
        "but not compared.",
    ]
    if drift.get("assessed"):
        lines.append(
            "Drift: population stability index of each feature between the training "
            f"(reference) and current data in {drift.get('bins')} reference-quantile "
            f"bins; above {drift.get('psi_warn')} is a moderate shift, above "
            f"{drift.get('psi_retrain')} triggers retraining. Also measured per month "
            "of the current data and on the model's scores."
        )
    else:
        lines.append("Drift: not measured, the version has no current data.")
    if explanations:
        lines.append(
            f"Explanations: SHAP values for {_number(explanations.get('rows'))} test "
            f"rows in {explanations.get('output_space')} space."
        )
    return "\n\n".join(lines)


def _draft_performance(evidence: Mapping[str, Any]) -> str:
    performance = evidence.get("performance") or {}
    matrix = performance.get("confusion_matrix") or {}
    stability = evidence.get("stability") or {}
    lines = [
        "On the test data:",
        *(_standard_line(standard) for standard in performance.get("standards", [])),
        f"- f1: {_number(performance.get('f1'))}",
    ]
    if matrix:
        lines.append(
            f"- confusion matrix: {matrix.get('tp')} true positives, "
            f"{matrix.get('fp')} false positives, {matrix.get('fn')} false "
            f"negatives, {matrix.get('tn')} true negatives"
        )
    for row in stability.get("degradation", []):
        lines.append(
            f"- {row['metric']} on the {row['scope']} data: {_number(row['observed'])} "
            f"against {_number(row['baseline'])} on the test data, a change of "
            f"{-row['relative_drop']:+.1%} (retraining when it falls by more than "
            f"{row['threshold']:.0%})"
        )
    return "\n".join(lines)


def _draft_limitations(evidence: Mapping[str, Any]) -> str:
    failed = [
        standard
        for standard in [
            *evidence.get("standards", []),
            *evidence.get("indicators", []),
        ]
        if standard.get("passed") is False
    ]
    drift = evidence.get("drift") or {}
    lines = [_standard_line(standard) for standard in failed]
    lines += [
        f"- {name} drifted past the retraining threshold: PSI "
        f"{_number(drift['psi'][name])} above {drift.get('psi_retrain')}"
        for name in drift.get("features_to_retrain", [])
    ]
    lines += _small_group_lines(evidence.get("fairness") or {})
    risk = evidence.get("risk") or {}
    lines += [
        f"- {factor} risk not assessed, counted as the maximum"
        for factor in risk.get("unassessed", [])
    ]
    if not lines:
        return (
            "The assessment found no failed standard or indicator, no drift past the "
            "retraining threshold and no group too small to compare."
        )
    return "Found by the assessment:\n" + "\n".join(lines)


def _small_group_lines(fairness: Mapping[str, Any]) -> list[str]:
    lines = []
    for feature in fairness.get("features", []):
        small = [group for group in feature["groups"] if group.get("is_too_small")]
        if small:
            lines.append(
                f"- {len(small)} of {len(feature['groups'])} groups of "
                f"{feature['name']} have fewer than {fairness.get('min_group_size')} "
                "rows and were not compared"
            )
    return lines


def _draft_bias(evidence: Mapping[str, Any]) -> str:
    fairness = evidence.get("fairness") or {}
    if not fairness.get("features"):
        return "No sensitive features were registered, so disparity was not assessed."
    blocks = [_feature_bias(feature) for feature in fairness["features"]]
    failing = [
        feature["name"]
        for feature in fairness["features"]
        if feature.get("passed") is False
    ]
    summary = (
        f"The bias standard failed for: {', '.join(failing)}."
        if failing
        else "The bias standard passed for every sensitive feature and intersection."
    )
    return "\n\n".join([*blocks, summary])


def _feature_bias(feature: Mapping[str, Any]) -> str:
    parity = feature["demographic_parity"]
    odds = feature["equalized_odds"]
    compared = [group for group in feature["groups"] if not group.get("is_too_small")]
    lines = [
        f"{feature['name']} ({len(feature['groups'])} groups, {len(compared)} "
        "compared):",
        *(_standard_line(standard) for standard in feature.get("standards", [])),
        *(_standard_line(indicator) for indicator in feature.get("indicators", [])),
        f"- lowest selection rate: {parity.get('lowest_group')}; highest: "
        f"{parity.get('highest_group')}",
    ]
    lines += [
        f"- {group['group']}: {_number(group['count'])} rows, selection rate "
        f"{_number(group['selection_rate'])}"
        for group in compared
    ]
    if odds.get("lowest_group"):
        lines.append(
            f"- widest {str(odds.get('rate', '')).replace('_', ' ')} gap: "
            f"{odds.get('lowest_group')} against {odds.get('highest_group')}"
        )
    return "\n".join(lines)


# -- saving and history -----------------------------------------------------------


def missing_sections(card: ModelCard) -> list[str]:
    """Titles of the sections that cannot be saved as they are.

    A section is incomplete when its whole text is empty, or when people must
    write notes for it (``SectionSpec.is_notes_required``) and the notes are empty.
    """
    return [
        section.title
        for section in card.sections
        if not section.text.strip()
        or (_SPECS[section.key].is_notes_required and not section.notes.strip())
    ]


def save_card(
    engine: Engine,
    policy: Policy,
    *,
    actor_id: str,
    model: str,
    version: str,
    notes: Mapping[str, str],
    based_on: int | None = None,
) -> ModelCard:
    """Save a new card version of ``model`` ``version``, drafted from its evidence.

    Parameters
    ----------
    engine
        The store.
    policy
        The policy in force, recorded with the card.
    actor_id
        Who saves; must hold the data scientist role.
    model, version
        The model version the card documents.
    notes
        People's notes per section key.
    based_on
        The card version the edits started from (None for the first card); when
        another card was saved since, the save is refused instead of overwriting.

    Returns
    -------
    ModelCard
        The saved card.

    Raises
    ------
    PermissionDeniedError
        When the actor is not an active data scientist.
    NotFoundError
        When the version does not exist or was never assessed.
    InvalidInputError
        When a required section is empty.
    ConflictError
        When ``based_on`` is no longer the newest card version.
    """
    row = _version_row(engine, model, version)
    stored = latest_evidence(engine, model, version)
    if stored is None:
        raise NotFoundError(
            f"{model} version {version} has not been assessed, so there is no "
            "evidence to draft its card from. Assess it first."
        )
    card = draft_card(
        row,
        stored,
        model=model,
        description=get_model(engine, model).description,
        notes=notes,
    )
    with unit_of_work(engine) as work:
        require_role(work.session, actor_id, EDITING_ROLE)
        _check_complete(card)
        number = _newest_number(work.session, row.id)
        if based_on != number:
            raise ConflictError(
                f"Card version {number} of {model} version {version} was saved while "
                "you were editing. Reload the page, review it, and save again."
            )
        record = _card_record(card, (number or 0) + 1, actor_id, policy)
        work.session.add(record)
        work.session.flush()
        work.record(
            actor_id=actor_id,
            action=SAVED_ACTION,
            entity_type="model_version",
            entity_id=str(row.id),
            payload={
                "model": model,
                "version": version,
                "card_version": record.card_version,
                "assessment_id": stored.assessment_id,
                "content_sha256": card.content_hash(),
                "policy_version": policy.version,
            },
        )
        saved = _from_record(record, model, version)
    logger.info(
        "Model card %s of %s/%s saved by %s",
        saved.card_version,
        model,
        version,
        actor_id,
    )
    return saved


def _check_complete(card: ModelCard) -> None:
    missing = missing_sections(card)
    if missing:
        raise InvalidInputError(
            f"The model card cannot be saved: {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} empty. Write the notes these "
            "sections ask for, then save again."
        )


def _version_row(engine: Engine, model: str, version: str) -> VersionRow:
    for row in list_versions(engine, model):
        if row.version == str(version):
            return row
    raise NotFoundError(
        f"No version {version} of model {model}. Choose a registered version."
    )


def _newest_number(session: Session, model_version_id: int) -> int | None:
    return session.exec(
        select(func.max(ModelCardVersion.card_version)).where(
            ModelCardVersion.model_version_id == model_version_id
        )
    ).one()


def _sections_json(sections: Iterable[CardSection]) -> dict[str, dict[str, str]]:
    return {
        section.key: {
            "title": section.title,
            "drafted": section.drafted,
            "notes": section.notes,
        }
        for section in sections
    }


def _card_record(
    card: ModelCard, number: int, actor_id: str, policy: Policy
) -> ModelCardVersion:
    return ModelCardVersion(
        model_version_id=card.model_version_id,
        card_version=number,
        sections=_sections_json(card.sections),
        assessment_id=card.assessment_id,
        edited_by=actor_id,
        policy_version=policy.version,
        policy_hash=policy.content_hash,
    )


def _from_record(record: ModelCardVersion, model: str, version: str) -> ModelCard:
    sections = tuple(
        CardSection(
            key,
            record.sections[key].get("title", _SPECS[key].title),
            record.sections[key].get("drafted", ""),
            record.sections[key].get("notes", ""),
        )
        for key in _SPECS
        if key in record.sections
    )
    return ModelCard(
        model=model,
        version=version,
        model_version_id=record.model_version_id,
        sections=sections,
        assessment_id=record.assessment_id,
        card_version=record.card_version,
        edited_by=record.edited_by,
        created_at=record.created_at,
        policy_version=record.policy_version,
        policy_hash=record.policy_hash,
    )


def card_history(engine: Engine, model: str, version: str) -> list[ModelCard]:
    """Every saved card version of ``model`` ``version``, newest first."""
    row = _version_row(engine, model, version)
    with read_session(engine) as session:
        records = session.exec(
            select(ModelCardVersion)
            .where(ModelCardVersion.model_version_id == row.id)
            .order_by(col(ModelCardVersion.card_version).desc())
        ).all()
        return [_from_record(record, model, version) for record in records]


def latest_card(engine: Engine, model: str, version: str) -> ModelCard | None:
    """The newest saved card version, or None when no card was saved."""
    history = card_history(engine, model, version)
    return history[0] if history else None


def history_table(
    history: Iterable[ModelCard], names: Mapping[str, str]
) -> dict[str, list[Any]]:
    """Saved card versions as table columns, newest first.

    Parameters
    ----------
    history
        Saved cards, as ``card_history`` returns them.
    names
        Display name per user id; an unknown id is shown as it is.

    Returns
    -------
    dict[str, list]
        Columns ``Card version``, ``Saved (UTC)``, ``Saved by``, ``Assessment``
        and ``Policy``.
    """
    cards = list(history)
    return {
        "Card version": [card.card_version for card in cards],
        "Saved (UTC)": [
            f"{card.created_at:%Y-%m-%d %H:%M}" if card.created_at else ""
            for card in cards
        ],
        "Saved by": [names.get(str(card.edited_by), card.edited_by) for card in cards],
        "Assessment": [card.assessment_id for card in cards],
        "Policy": [card.policy_version for card in cards],
    }


# -- exports ----------------------------------------------------------------------


def _status_line(card: ModelCard) -> str:
    if not card.is_saved:
        return f"Draft (not saved), from assessment {card.assessment_id}."
    return (
        f"Card version {card.card_version}, saved {card.created_at:%Y-%m-%d %H:%M} UTC "
        f"by {card.edited_by} under policy {card.policy_version}; drafted from "
        f"assessment {card.assessment_id}."
    )


def card_markdown(card: ModelCard) -> str:
    """The card as a Markdown document, one heading per section.

    Parameters
    ----------
    card
        A draft or a saved card.

    Returns
    -------
    str
        Markdown text, with ``&``, ``<`` and ``>`` escaped as HTML entities.
    """
    parts = [f"# Model card: {card.model} version {card.version}", _status_line(card)]
    for section in card.sections:
        parts += [f"## {section.title}", section.drafted or "_Nothing drafted._"]
        if section.notes:
            parts += ["**Notes from the team**", section.notes]
    # Markdown viewers pass raw HTML through; escaping keeps typed markup inert
    # and reads the same once rendered.
    return html.escape("\n\n".join(parts), quote=False) + "\n"


def card_html(card: ModelCard) -> str:
    """The card as a standalone HTML document; every text is escaped.

    Parameters
    ----------
    card
        A draft or a saved card.

    Returns
    -------
    str
        HTML text.
    """
    title = html.escape(f"Model card: {card.model} version {card.version}")
    body = [f"<h1>{title}</h1>", f"<p><em>{html.escape(_status_line(card))}</em></p>"]
    for section in card.sections:
        body.append(f"<h2>{html.escape(section.title)}</h2>")
        body += _html_blocks(section.drafted)
        if section.notes:
            body.append("<h3>Notes from the team</h3>")
            body += _html_blocks(section.notes)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n<style>{_HTML_STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


_HTML_STYLE = (
    "body{font-family:Helvetica,Arial,sans-serif;max-width:50rem;margin:2rem auto;"
    "line-height:1.45;color:#222}h2{border-bottom:1px solid #ccc;margin-top:2rem}"
    "li{margin:.15rem 0}"
)


def _html_blocks(text: str) -> list[str]:
    """Paragraphs split on blank lines; runs of ``- `` lines become lists."""
    blocks = []
    for block in (part for part in text.split("\n\n") if part.strip()):
        run: list[str] = []
        for line in [*block.splitlines(), None]:
            is_item = line is not None and line.startswith("- ")
            if run and (line is None or is_item != run[0].startswith("- ")):
                blocks.append(_html_run(run))
                run = []
            if line is not None:
                run.append(line)
    return blocks


def _html_run(lines: list[str]) -> str:
    if lines[0].startswith("- "):
        items = "".join(f"<li>{html.escape(line[2:])}</li>" for line in lines)
        return f"<ul>{items}</ul>"
    return "<p>" + "<br>".join(html.escape(line) for line in lines) + "</p>"


def card_pdf(card: ModelCard) -> bytes:
    """The card as a PDF document.

    Uses DejaVu Sans when the system has it (any Unicode text); otherwise the core
    Helvetica font, with characters outside latin-1 replaced by ``?``.

    Parameters
    ----------
    card
        A draft or a saved card.

    Returns
    -------
    bytes
        The PDF file.
    """
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    family, clean = pdf_font(pdf)

    def write(text: str, size: int, height: float, *, style: str = "") -> None:
        pdf.set_font(family, style=style, size=size)
        pdf.multi_cell(0, height, clean(text), new_x="LMARGIN", new_y="NEXT")

    write(f"Model card: {card.model} version {card.version}", 18, 10, style="B")
    write(_status_line(card), 9, 5)
    for section in card.sections:
        pdf.ln(4)
        write(section.title, 14, 8, style="B")
        write(section.drafted, 10, 5)
        if section.notes:
            pdf.ln(2)
            write("Notes from the team", 11, 6, style="B")
            write(section.notes, 10, 5)
    return bytes(pdf.output())


def pdf_font(pdf: Any) -> tuple[str, Callable[[str], str]]:
    """Add DejaVu Sans to ``pdf`` if present; return the family and a text cleaner."""
    for folder in PDF_FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.exists() and bold.exists():
            pdf.add_font("DejaVu", fname=str(regular))
            pdf.add_font("DejaVu", style="B", fname=str(bold))
            return "DejaVu", lambda text: text
    logger.warning("No DejaVu font found; the PDF replaces non-latin-1 characters")
    return "Helvetica", lambda text: text.encode("latin-1", "replace").decode("latin-1")
