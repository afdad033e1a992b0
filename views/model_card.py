"""Model card: the framework's seven documentation sections, drafted and versioned."""

import streamlit as st

from governance.access import list_people
from governance.errors import GovernanceError
from governance.inventory import get_model
from governance.model_card import (
    EDITING_ROLE,
    SECTIONS,
    card_history,
    card_html,
    card_markdown,
    card_pdf,
    draft_card,
    history_table,
    save_card,
)
from ui.context import acting_person, store
from ui.selection import choose_version, require_evidence

_, engine, policy = store()
st.title("Model card")
st.write(
    "The framework requires seven documentation sections for every model. The console "
    "drafts each from the latest assessment, quoting the measured values with the "
    "thresholds they were held to; the team adds what only people know. Saving "
    "creates a new card version, recorded in the audit trail."
)

chosen = choose_version(engine, key="card")
if chosen is None:
    st.stop()
model, row = chosen
stored = require_evidence(engine, model, row.version)
if stored is None:
    st.stop()

_SAVED = "card_saved_message"
if _SAVED in st.session_state:
    st.success(st.session_state.pop(_SAVED))
names = {person.id: person.display_name for person in list_people(engine)}
history = card_history(engine, model, row.version)
latest = history[0] if history else None
draft = draft_card(
    row,
    stored,
    model=model,
    description=get_model(engine, model).description,
    notes=latest.notes() if latest else None,
)
if latest is None:
    st.info("No card was saved for this version yet: below is the console's draft.")
elif latest.assessment_id != stored.assessment_id:
    st.warning(
        f"Card version {latest.card_version} was drafted from assessment "
        f"{latest.assessment_id}; the version was assessed again since. Save the card "
        "to bring its drafted text up to date."
    )
else:
    st.caption(
        f"Card version {latest.card_version}, saved {latest.created_at:%Y-%m-%d %H:%M} "
        f"UTC by {names.get(str(latest.edited_by), latest.edited_by)}."
    )

read_tab, edit_tab, history_tab = st.tabs(["Card", "Edit", "History and export"])
with read_tab:
    for section in (latest or draft).sections:
        st.subheader(section.title)
        st.markdown(section.drafted)
        if section.notes:
            st.markdown("**Notes from the team**")
            st.text(section.notes)

with edit_tab:
    person = acting_person()
    if person is None or EDITING_ROLE not in person.roles:
        st.info(
            "Only a data scientist edits the model card; others read and export it."
        )
    else:
        with st.form(f"card_form_{row.id}"):
            notes = {}
            for spec in SECTIONS:
                st.markdown(f"**{spec.title}**")
                notes[spec.key] = st.text_area(
                    spec.notes_prompt
                    + (" (required)" if spec.is_notes_required else ""),
                    value=draft.notes().get(spec.key, ""),
                    key=f"card_notes_{row.id}_{spec.key}",
                )
            submitted = st.form_submit_button("Save a new card version")
        if submitted:
            try:
                saved = save_card(
                    engine,
                    policy,
                    actor_id=person.id,
                    model=model,
                    version=row.version,
                    notes=notes,
                    based_on=latest.card_version if latest else None,
                )
            except GovernanceError as exc:
                st.error(str(exc))
            else:
                st.session_state[_SAVED] = f"Saved card version {saved.card_version}."
                st.rerun()

with history_tab:
    if not history:
        st.info("No saved card versions yet. Exports below are of the unsaved draft.")
        shown = draft
    else:
        st.dataframe(history_table(history, names), hide_index=True, key="card_history")
        number = st.selectbox(
            "Card version to export",
            [card.card_version for card in history],
            key=f"card_export_{row.id}",
        )
        shown = next(card for card in history if card.card_version == number)
    stem = f"{model}-{row.version}-model-card-" + (
        f"v{shown.card_version}" if shown.is_saved else "draft"
    )
    markdown_column, html_column, pdf_column = st.columns(3)
    markdown_column.download_button(
        "Markdown",
        card_markdown(shown),
        file_name=f"{stem}.md",
        mime="text/markdown",
        key="card_markdown",
    )
    html_column.download_button(
        "HTML",
        card_html(shown),
        file_name=f"{stem}.html",
        mime="text/html",
        key="card_html",
    )
    pdf_column.download_button(
        "PDF",
        lambda: card_pdf(shown),
        file_name=f"{stem}.pdf",
        mime="application/pdf",
        key="card_pdf",
    )
