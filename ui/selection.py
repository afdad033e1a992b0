"""The model and version a review page is about, shared across pages."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st
from sqlalchemy import Engine

from governance.evidence import StoredEvidence, latest_evidence
from governance.inventory import VersionRow, list_inventory, list_versions

_MODEL, _VERSION = "model_name", "version_name"


def choose_version(
    engine: Engine,
    *,
    key: str,
    worth_showing: Callable[[str], list[str]] | None = None,
) -> tuple[str, VersionRow] | None:
    """Model and version selectboxes; the choice follows the user between pages.

    ``key`` prefixes the widget keys so each page has its own widgets. Without a
    version carried over from another page, the newest version opens, or the
    newest of those ``worth_showing(model)`` names, so a page about evidence few
    versions have does not open on an empty one. Returns None (after telling the
    user how to add a model) when nothing is governed.
    """
    names = [row.name for row in list_inventory(engine)]
    if not names:
        st.info(
            "No models are governed yet. Build the demo with `python -m governance demo`, "
            "or register your own model as the README explains."
        )
        return None
    wanted = st.query_params.get("model") or st.session_state.get(_MODEL)
    left, right = st.columns(2)
    name = left.selectbox(
        "Model",
        names,
        index=names.index(wanted) if wanted in names else 0,
        key=f"{key}_model",
    )
    versions = list_versions(engine, name)
    labels = [row.version for row in versions]
    wanted_version = st.session_state.get(_VERSION) if name == wanted else None
    if wanted_version not in labels and worth_showing is not None:
        shown = set(worth_showing(name))
        wanted_version = next((label for label in labels if label in shown), None)
    version = right.selectbox(
        "Version",
        labels,
        index=labels.index(wanted_version) if wanted_version in labels else 0,
        key=f"{key}_version",
    )
    st.session_state[_MODEL], st.session_state[_VERSION] = name, version
    st.query_params["model"] = name
    return name, next(row for row in versions if row.version == version)


def require_evidence(engine: Engine, model: str, version: str) -> StoredEvidence | None:
    """The latest evidence of the version, or guidance on how to assess it."""
    stored = latest_evidence(engine, model, version)
    if stored is None:
        st.info(
            f"{model} version {version} has not been assessed yet. Open the Model page "
            "and press Assess, or run "
            f"`python -m governance assess --model {model} --version {version}`."
        )
    return stored
