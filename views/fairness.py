"""Fairness: group rates and disparities of one version, at any decision threshold."""

import streamlit as st

from governance.charts.fairness import (
    disparity_curve_figure,
    group_rates_figure,
    threshold_grid,
)
from governance.errors import GovernanceError
from governance.evidence import evidence_by_id, load_predictions
from governance.review import (
    FairnessExplorer,
    difference_verdict,
    fairness_summary,
    find_feature,
    group_rows,
    group_table,
    shown_difference,
    widest_disparity,
    with_intervals,
)
from ui.context import store
from ui.selection import choose_version, require_evidence

CURVE_POINTS = 101
PARITY = "Demographic parity difference (standard)"
ODDS = "Equalized odds difference (indicator)"
VERDICT_COLOURS = {
    "pass": "green",
    "below": "green",
    "fail": "red",
    "above": "orange",
    "not assessable": "gray",
}


@st.cache_data(max_entries=32, show_spinner="Reading the stored predictions…")
def _explorer(assessment_id: int, feature: str) -> FairnessExplorer:
    _, engine, _ = store()
    stored = evidence_by_id(engine, assessment_id)
    evidence = find_feature(stored.evidence, feature)
    return FairnessExplorer(
        load_predictions(stored, split="test"),
        evidence["sensitive_features"],
        min_group_size=stored.evidence["fairness"]["min_group_size"],
    )


def _show_differences(parity, odds, standard, indicator):
    """Both differences, each beside its maximum, with the verdict."""
    rows = ((PARITY, parity, standard, True), (ODDS, odds, indicator, False))
    for column, (label, value, item, is_standard) in zip(
        st.columns(2), rows, strict=True
    ):
        words = difference_verdict(value, item["threshold"], is_standard=is_standard)
        column.metric(
            label,
            shown_difference(value),
            f"{words}: maximum {item['threshold']:g}",
            delta_color=VERDICT_COLOURS[words],
            delta_arrow="off",
        )


_, engine, _ = store()
st.title("Fairness")
st.write(
    "The **demographic parity difference** is the largest gap in selection rate (the "
    "share of a group predicted to convert) between groups; the framework's bias "
    "standard requires it to stay below the policy maximum. The **equalized odds "
    "difference** is the larger gap in true or false positive rate: an indicator, "
    "not a pass/fail standard, that feeds the bias risk factor."
)
chosen = choose_version(engine, key="fairness")
if chosen is None:
    st.stop()
name, row = chosen
stored = require_evidence(engine, name, row.version)
if stored is None:
    st.stop()

st.dataframe(fairness_summary(stored.evidence), hide_index=True, key="fairness_summary")
features = [feature["name"] for feature in stored.evidence["fairness"]["features"]]
feature_name = st.selectbox(
    "Sensitive feature",
    features,
    index=features.index(widest_disparity(stored.evidence)),
    format_func=lambda f: f"{f} (intersection)" if " & " in f else f,
    key="fairness_feature",
)
feature = find_feature(stored.evidence, feature_name)
standard, indicator = feature["standards"][0], feature["indicators"][0]
registered = float(stored.evidence["decision_threshold"])

st.subheader(f"At the registered decision threshold {registered:.3f}")
_show_differences(standard["value"], indicator["value"], standard, indicator)
if standard["passed"] is False:
    st.error(standard["detail"])
else:
    st.success(standard["detail"])
st.caption(f"Equalized odds, the indicator: {indicator['detail']}")

groups = with_intervals(group_table(feature["groups"]))
small = groups[groups["is_too_small"]]
if len(small):
    st.warning(
        f"{len(small)} of {len(groups)} groups have fewer than "
        f"{stored.evidence['fairness']['min_group_size']} rows, too few to judge: they "
        "are drawn pale and left out of the differences. "
        + ", ".join(f"{group} (n={count})" for group, count in small["count"].items())
    )
st.markdown("**Rates per group**, with 95 % Wilson intervals as error bars")
st.plotly_chart(group_rates_figure(groups), key="fairness_groups_chart")
st.dataframe(group_rows(groups), hide_index=True, key="fairness_groups_table")

st.subheader("At another decision threshold")
st.caption(
    "Recomputed from the stored test predictions; the model is not run. The "
    "assessment on record stays the one above."
)
threshold = st.slider(
    "Decision threshold",
    0.0,
    1.0,
    value=registered,
    step=0.01,
    key=f"fairness_threshold_{stored.assessment_id}",
)
try:
    explorer = _explorer(stored.assessment_id, feature_name)
except GovernanceError as exc:
    st.error(str(exc))
    st.stop()
at_threshold = explorer.disparities(threshold)
view = explorer.at(threshold)
_show_differences(
    at_threshold.demographic_parity_difference[0],
    at_threshold.equalized_odds_difference[0],
    standard,
    indicator,
)
if view.demographic_parity.lowest_group is not None:
    st.caption(
        f"Widest selection rate gap at {threshold:.2f}: between "
        f"{view.demographic_parity.lowest_group} and "
        f"{view.demographic_parity.highest_group}."
    )
st.plotly_chart(
    disparity_curve_figure(
        explorer.disparities(threshold_grid(CURVE_POINTS)),
        maximum=standard["threshold"],
        chosen_threshold=threshold,
        decision_threshold=registered,
    ),
    key="fairness_curve_chart",
)
st.markdown(f"**Rates per group at threshold {threshold:.2f}**")
st.plotly_chart(
    group_rates_figure(view.groups), key="fairness_groups_at_threshold_chart"
)
