"""Data quality: the framework's data requirements, checked on the training data."""

import streamlit as st

from governance.charts.data_quality import (
    find_standard,
    missing_values_chart,
    pii_scan_rows,
    quality_chart,
    verdict_word,
)
from ui.context import store
from ui.selection import choose_version, require_evidence

_, engine, policy = store()
st.title("Data quality")

chosen = choose_version(engine, key="quality")
if chosen is None:
    st.stop()
model, row = chosen
stored = require_evidence(engine, model, row.version)
if stored is None:
    st.stop()
data = stored.evidence.get("data_standards")
if not data:
    st.info(
        "This assessment holds no data standards evidence. Assess the version again."
    )
    st.stop()
standards = data.get("standards", [])


def show(standard: dict, label: str, value: str, threshold: str) -> None:
    """One standard as a metric: the value, the threshold beside it, the verdict."""
    passed = standard.get("passed")
    st.metric(
        label,
        value,
        f"{verdict_word(passed)} ({threshold})",
        delta_color="off" if passed is None else "normal" if passed else "inverse",
        delta_arrow="off",
    )
    if standard.get("detail"):
        st.caption(standard["detail"])


st.subheader("Quality score")
quality = find_standard(standards, "data_quality_score")
minimum = float(quality.get("threshold", policy.data_standards.min_quality_score))
st.write(
    "The quality score is the mean of four shares of the training data: cells not "
    "missing (completeness), values of the right type (validity), rows not repeated "
    f"(uniqueness) and rows without a contradiction (consistency). The framework "
    f"asks for at least {minimum:.0%}."
)
show(quality, "Quality score", f"{data['quality_score']:.2%}", f"minimum {minimum:.0%}")
st.plotly_chart(quality_chart(data, min_quality_score=minimum), key="quality_parts")
st.caption(
    f"{data.get('duplicate_rows', 0)} duplicate rows; {data.get('inconsistent_rows', 0)} "
    "inconsistent rows ("
    + ", ".join(
        f"{k.replace('_', ' ')} {v}" for k, v in data.get("inconsistencies", {}).items()
    )
    + ")."
)

st.subheader("Missing values")
st.write("Share of rows with no value, per feature and the target.")
st.plotly_chart(missing_values_chart(data["missing_share"]), key="quality_missing")

volume_column, freshness_column = st.columns(2)
with volume_column:
    st.subheader("Volume")
    volume = find_standard(standards, "training_rows")
    st.write("The framework asks for enough training rows to learn from.")
    show(
        volume,
        "Training rows",
        f"{data['rows']:,}",
        f"minimum {int(volume.get('threshold', policy.data_standards.min_training_rows)):,}",
    )
with freshness_column:
    st.subheader("Freshness")
    fresh = find_standard(standards, "training_data_age_days")
    age = fresh.get("value")
    st.write("Days from the newest training row to the assessment.")
    show(
        fresh,
        "Training data age",
        f"{age:.0f} days" if isinstance(age, int | float) else "not assessable",
        f"maximum {fresh.get('threshold', policy.data_standards.max_training_age_days)} days",
    )
    if data.get("newest_timestamp"):
        st.caption(f"Newest training row: {data['newest_timestamp']}.")

st.subheader("Personal data (PII)")
pii = find_standard(standards, "pii_in_features")
allowed = policy.data_standards.pii_in_features_allowed
st.write(
    "Columns holding personal data, declared at registration or detected from their "
    "name or values. Personal data used as a model input fails the GDPR standard "
    + (
        "unless the policy allows it (it does)."
        if allowed
        else "(the policy allows none)."
    )
)
show(
    pii,
    "PII used as features",
    str(pii.get("value", "none")),
    "allowed" if allowed else "none allowed",
)
rows = pii_scan_rows(
    data,
    declared=row.data_spec.get("pii_columns", []),
    features=row.data_spec.get("features", []),
    pii_in_features_allowed=allowed,
)
if rows:
    st.dataframe(rows, hide_index=True, key="quality_pii")
else:
    st.info("No column was declared or detected as personal data.")
