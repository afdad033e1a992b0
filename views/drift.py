"""Drift: how far the current data moved from the training data, and when."""

import streamlit as st

from governance.assessment.drift import drift_flags
from governance.charts.drift import (
    FLAG_WORDS,
    distribution_chart,
    drift_heatmap,
    empty_months,
    psi_bar_chart,
)
from governance.errors import GovernanceError
from governance.evidence import evidently_report_path
from ui.context import store
from ui.selection import choose_version, require_evidence

_, engine, policy = store()
st.title("Drift")

chosen = choose_version(engine, key="drift")
if chosen is None:
    st.stop()
model, row = chosen
stored = require_evidence(engine, model, row.version)
if stored is None:
    st.stop()

drift = stored.evidence.get("drift") or {}
if not drift.get("assessed"):
    st.info(
        f"Drift was not measured for {model} version {row.version}: it was registered "
        "without current data, so there is nothing to compare the training data with. "
        "Register the version again with `--current` and assess it."
    )
    st.stop()
warn, retrain = drift["psi_warn"], drift["psi_retrain"]
psi, flags = drift["psi"], drift["flags"]

st.write(
    "The population stability index (PSI) measures how far a feature's distribution "
    "in the current data moved from the training (reference) data; 0 means no "
    f"change. Above {warn} is a moderate shift to watch; above {retrain} the "
    "framework triggers retraining."
)
flagged = drift["features_to_retrain"]
if flagged:
    st.error(
        "Retraining triggered: "
        + ", ".join(f"{name} PSI {psi[name]:.3f} > {retrain}" for name in flagged)
        + "."
    )
else:
    st.success(f"No feature drifted past the retraining threshold {retrain}.")
watched = [name for name, flag in flags.items() if flag == "warn"]
if watched:
    st.warning(
        f"Moderate shift (PSI > {warn}): "
        + ", ".join(f"{name} {psi[name]:.3f}" for name in watched)
        + "."
    )
st.plotly_chart(
    psi_bar_chart(psi, flags, psi_warn=warn, psi_retrain=retrain), key="drift_psi"
)

st.subheader("Prediction drift")
st.write(
    "The same index over the model's scores: how far the scores on the current data "
    "moved from the scores on the training data, whatever the cause."
)
prediction_psi = drift.get("prediction_psi")
if prediction_psi is None:
    st.info("The prediction PSI was not stored with this assessment.")
else:
    flag = drift_flags({"scores": prediction_psi}, policy)["scores"]
    st.metric(
        "Prediction PSI",
        f"{prediction_psi:.3f}",
        f"{FLAG_WORDS[flag]} (warn above {warn}, retrain above {retrain})",
        delta_color="inverse"
        if flag == "retrain"
        else "off"
        if flag == "warn"
        else "normal",
        delta_arrow="off",
    )

st.subheader("Reference against current")
distributions = drift.get("distributions") or {}
features = sorted(psi, key=psi.__getitem__, reverse=True)
feature = st.selectbox(
    "Feature", features, key="drift_feature", help="Most drifted first."
)
if feature in distributions:
    st.caption(
        f"{feature}: PSI {psi[feature]:.3f}, {FLAG_WORDS[flags.get(feature, 'ok')]}. "
        "Numeric features are cut at the training data's deciles."
    )
    st.plotly_chart(
        distribution_chart(distributions[feature], feature), key="drift_distribution"
    )
else:
    st.info(f"No distribution of {feature} was stored; assess the version again.")

st.subheader("Drift over time")
windows = drift.get("windows") or {}
if not windows:
    st.info(
        "Drift per month is not available: the version was registered without a "
        "timestamp column, or no current row carries a readable date."
    )
else:
    st.write(
        "Each cell is the PSI of one feature over one calendar month of the current "
        "data, against the same training data."
    )
    gaps = empty_months(windows)
    if gaps:
        st.warning(f"No current rows in {', '.join(gaps)}: those months are empty.")
    st.plotly_chart(
        drift_heatmap(windows, psi_warn=warn, psi_retrain=retrain), key="drift_windows"
    )

st.subheader("Evidently report")
try:
    report = evidently_report_path(stored)
except GovernanceError as exc:
    st.warning(str(exc))
else:
    st.write(
        "evidently's own data-drift report on a sample of the same data, with its "
        "statistical tests per column; a second opinion beside the PSI."
    )
    st.download_button(
        "Download the evidently report (HTML)",
        data=report.read_bytes,
        file_name=f"{model}-{row.version}-evidently-drift.html",
        mime="text/html",
        key="drift_evidently",
    )
