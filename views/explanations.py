"""Explanations: what drives the model overall, per feature, and for one lead."""

import streamlit as st

from governance.charts.explanations import (
    OUTPUT_TITLES,
    dependence_figure,
    importance_figure,
    waterfall_figure,
)
from governance.errors import GovernanceError
from governance.evidence import evidence_by_id, load_shap
from governance.review import mask_pii, model_output, search_rows, verdict
from ui.context import store
from ui.selection import choose_version, require_evidence

SEARCH_LIMIT = 200


@st.cache_data(max_entries=8, show_spinner="Reading the stored SHAP values…")
def _explanation(assessment_id: int):
    _, engine, _ = store()
    return load_shap(evidence_by_id(engine, assessment_id))


_, engine, _ = store()
st.title("Explanations")
st.write(
    "A SHAP value is how much one feature moved one prediction away from the model's "
    "average output; a lead's values add up, with that average, to the model's "
    "output. The framework asks that explainability is available: the standard "
    "passes when the stored values rebuild the model's output exactly (additive)."
)
chosen = choose_version(engine, key="explanations")
if chosen is None:
    st.stop()
name, row = chosen
stored = require_evidence(engine, name, row.version)
if stored is None:
    st.stop()

standard = stored.evidence["explanations"]["standard"]
summary = (
    f"Explainability: **{verdict(standard['passed'])}**, {standard['value']} "
    f"(required: {standard['threshold']}). {standard['detail']}."
)
if standard["passed"]:
    st.success(summary)
else:
    st.error(summary)
try:
    explanation = _explanation(stored.assessment_id)
except GovernanceError as exc:
    st.error(str(exc))
    st.stop()
space = OUTPUT_TITLES.get(explanation.output_space, explanation.output_space)

st.subheader("Which features matter overall")
st.caption(
    f"Mean absolute SHAP value over {len(explanation.row_ids)} explained test rows, "
    f"in {space}: how far a feature moves a prediction on average, either way."
)
importance = explanation.global_importance()
st.plotly_chart(importance_figure(importance), key="explanations_importance")

st.subheader("How one feature's value moves the output")
feature = st.selectbox("Feature", list(importance.index), key="explanations_feature")
position = explanation.feature_names.index(feature)
st.plotly_chart(
    dependence_figure(
        explanation.feature_values[feature],
        explanation.values[:, position],
        output_space=explanation.output_space,
    ),
    key="explanations_dependence",
)
st.caption("Each point is one lead; above zero pushes towards converting.")

st.subheader("One lead's explanation")
pii_columns = row.data_spec.get("pii_columns", [])
shown_values = mask_pii(explanation.feature_values, pii_columns)
text = st.text_input(
    "Find a lead by row id or feature value",
    placeholder="e.g. L000054 or Web form",
    key="explanations_search",
)
matches = search_rows(shown_values, text, limit=SEARCH_LIMIT)
if not matches:
    st.info(
        f"No explained lead matches {text!r}. Only the {len(explanation.row_ids)} rows "
        "in the SHAP sample have explanations; try another id or value."
    )
    st.stop()
row_id = st.selectbox(
    "Lead",
    matches,
    key="explanations_row",
    help=f"Up to {SEARCH_LIMIT} matching leads are listed; search to narrow them.",
)
contributions = explanation.row(row_id)
raw, probability = model_output(
    explanation.base_value, contributions.to_numpy(), explanation.output_space
)
threshold = float(stored.evidence["decision_threshold"])
output, decision = st.columns(2)
output.metric("Predicted probability of converting", f"{probability:.4f}")
decision.metric(
    "Decision at the registered threshold",
    "convert" if probability >= threshold else "not convert",
    f"threshold {threshold:.3f}",
    delta_color="gray",
    delta_arrow="off",
)
lead_values = shown_values.loc[row_id]
st.plotly_chart(
    waterfall_figure(
        contributions,
        base_value=explanation.base_value,
        output_space=explanation.output_space,
        feature_values=lead_values,
    ),
    key="explanations_waterfall",
)
st.caption(
    f"Base value {explanation.base_value:.3f} plus the contributions gives "
    f"{raw:.3f} in {space}. PII columns ({', '.join(pii_columns) or 'none'}) are masked."
)
st.dataframe(
    {
        "Feature": list(contributions.index),
        "Value": [str(lead_values[name]) for name in contributions.index],
        "SHAP value": contributions.round(4).to_numpy(),
    },
    hide_index=True,
    key="explanations_lead_table",
)
