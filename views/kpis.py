"""Governance KPIs: the framework's improvement metrics, month by month."""

from datetime import UTC, datetime

import streamlit as st

from governance.charts.kpis import (
    compliance_rate_figure,
    cycle_time_figure,
    incident_frequency_figure,
    stability_figure,
)
from governance.errors import GovernanceError
from governance.records.kpis import (
    COMPLIANCE_RATE_DEFINITION,
    governance_kpis,
    period_start,
)
from ui.context import store

PERIODS = {6: "6 months", 12: "12 months", 24: "24 months"}

_, engine, _ = store()
st.title("Governance KPIs")
st.caption(
    "The framework's continuous-improvement metrics, computed from the records "
    "by calendar month (UTC)."
)
months = st.selectbox(
    "Period", list(PERIODS), index=1, format_func=PERIODS.__getitem__, key="kpi_months"
)
today = datetime.now(UTC).date()
try:
    kpis = governance_kpis(engine, start=period_start(today, months), end=today)
except GovernanceError as exc:
    st.error(str(exc))
    st.stop()

st.plotly_chart(cycle_time_figure(kpis), key="kpi_cycle_time")
st.caption(
    "Days from an approval request to its final decision (approved or rejected), "
    "in the month of the decision; withdrawn and superseded requests are left out."
)
st.plotly_chart(compliance_rate_figure(kpis), key="kpi_compliance")
st.caption(
    COMPLIANCE_RATE_DEFINITION + " Every assessed version counts, including those "
    "that never reached an approval request, so a failing version lowers the rate."
)
st.plotly_chart(incident_frequency_figure(kpis), key="kpi_incidents")
st.caption("Incidents reported per month, by kind.")
st.plotly_chart(stability_figure(kpis), key="kpi_stability")
st.caption(
    "Per model and month: the mean AUC of the production monitoring windows "
    "measured that month, with a bar from the lowest to the highest. Below, the "
    "AUC range over the whole period; its relative spread (spread over mean AUC) "
    "is the measure the stability risk factor uses."
)
if not kpis.stability_overall:
    st.info(
        "No production monitoring window with a measured AUC in this period: "
        "stability appears once monitoring has scored windows with outcomes."
    )
    st.stop()
st.dataframe(
    {
        "Model": [r.model_name for r in kpis.stability_overall],
        "Windows": [r.windows for r in kpis.stability_overall],
        "Lowest AUC": [r.auc_min for r in kpis.stability_overall],
        "Highest AUC": [r.auc_max for r in kpis.stability_overall],
        "Mean AUC": [r.auc_mean for r in kpis.stability_overall],
        "Relative spread": [r.relative_spread for r in kpis.stability_overall],
    },
    hide_index=True,
    key="kpi_stability_table",
)
