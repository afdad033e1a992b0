"""Monitoring: production windows over time, the triggers, the retraining request."""

import streamlit as st

from governance.charts.monitoring import (
    disparity_chart,
    feature_psi_chart,
    performance_chart,
    score_psi_chart,
)
from governance.errors import GovernanceError
from governance.inventory import list_inventory
from governance.operations.monitoring import (
    baseline_of,
    monitored_versions,
    monitored_windows,
    run_monitoring,
    window_series,
)
from governance.operations.triggers import performance_trigger_line
from ui.alerts import alerts_section
from ui.context import acting_person, store
from ui.monitoring import log_section, retraining_section
from ui.signoff import may, show_flash, signed_in_or_stop

settings, engine, policy = store()
st.title("Monitoring")
show_flash()
person = signed_in_or_stop(acting_person())
names = [row.name for row in list_inventory(engine)]
if not names:
    st.info("No models are governed yet; register one or build the demo.")
    st.stop()
wanted = st.session_state.get("model_name")
model = st.selectbox(
    "Model", names, index=names.index(wanted) if wanted in names else 0, key="mon_model"
)

log_section(engine, person, model)
if may(person, "monitoring.run") and st.button(
    "Run monitoring now", key="mon_run", type="primary"
):
    try:
        report = run_monitoring(
            settings, engine, policy, actor_id=person.id, model=model
        )
    except GovernanceError as exc:
        st.error(str(exc))
    else:
        done = sum(len(item.scored) + len(item.updated) for item in report.versions)
        (st.warning if report.problems else st.success)(
            f"Monitoring ran: {done} window(s) scored, "
            f"{sum(len(item.triggers) for item in report.versions)} trigger(s) fired."
        )
        st.text("\n".join(report.lines()))

versions = monitored_versions(engine, model)
if not versions:
    st.info(f"No production window of {model} has been scored yet.")
    st.stop()
labels = {
    version_id: f"version {name} ({stage})" for version_id, name, stage in versions
}
version_id = st.selectbox(
    "Version", list(labels), format_func=labels.__getitem__, key="mon_version"
)
windows = monitored_windows(engine, version_id)
series = window_series(windows)
warn, retrain = policy.drift.psi_warn, policy.drift.psi_retrain

performance, drift, scores, fairness = st.tabs(
    ["Performance", "Feature drift", "Score drift", "Fairness"]
)
with performance:
    metric = st.radio(
        "Metric", list(series.performance), horizontal=True, key="mon_metric"
    )
    baseline = (baseline_of(engine, version_id) or {}).get(metric)
    line = performance_trigger_line(baseline, policy) if baseline is not None else None
    st.plotly_chart(
        performance_chart(
            series.labels,
            series.performance[metric],
            metric=metric,
            baseline=baseline,
            trigger_line=line,
        ),
        key="mon_performance",
    )
with drift:
    st.plotly_chart(
        feature_psi_chart(
            series.labels, series.psi, psi_warn=warn, psi_retrain=retrain
        ),
        key="mon_psi",
    )
with scores:
    st.plotly_chart(
        score_psi_chart(
            series.labels, series.score_psi, psi_warn=warn, psi_retrain=retrain
        ),
        key="mon_score_psi",
    )
with fairness:
    bound = policy.fairness.max_demographic_parity_difference
    st.plotly_chart(
        disparity_chart(series.labels, series.disparities, bound=bound),
        key="mon_disparity",
    )
notes = [f"{w.label}: {text}" for w in windows for text in w.messages]
if notes:
    with st.expander(f"What was not measured ({len(notes)})"):
        st.text("\n".join(notes))

retraining_section(engine, person, model)
alerts_section(engine, person, key="mon_alerts")
