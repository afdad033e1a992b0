"""Model overview: versions, risk factors, standards and two versions side by side."""

import streamlit as st

from governance.assessment.risk import AT_THRESHOLD
from governance.charts.overview import risk_factors_figure, version_timeline_figure
from governance.errors import GovernanceError
from governance.evidence import assessment_history
from governance.inventory import STAGE_TITLES, get_model, list_versions
from governance.review import (
    compare_metrics,
    compare_standards,
    latest_by_version,
    risk_factor_rows,
)
from ui.assessment import assessment_panel
from ui.context import acting_person, store
from ui.selection import choose_version

settings, engine, policy = store()
chosen = choose_version(engine, key="overview")
if chosen is None:
    st.stop()
name, chosen_row = chosen
version = chosen_row.version

model = get_model(engine, name)
st.title(name)
if model.description:
    st.write(model.description)

versions = list_versions(engine, name)
st.subheader("Versions")
st.caption(
    "Each version at the time it was registered, on the row of its current stage; "
    "the colour is its latest risk level (grey: not assessed)."
)
st.plotly_chart(version_timeline_figure(versions), key="overview_timeline")
st.dataframe(
    {
        "Version": [row.version for row in versions],
        "Stage": [STAGE_TITLES.get(row.stage, row.stage) for row in versions],
        "Algorithm": [row.algorithm for row in versions],
        "Risk": [row.risk_level or "unassessed" for row in versions],
        "Registered": [row.registered_at for row in versions],
        "Run": [row.run_id for row in versions],
    },
    hide_index=True,
    key="model_versions",
)

st.subheader(f"Assessment of version {version}")
st.caption(
    "Every standard of the framework with the measured value beside its threshold."
)
assessment_panel(settings, engine, acting_person(), name, chosen_row)

assessed = latest_by_version(assessment_history(engine, name))
stored = assessed.get(version)
if stored is not None and stored.evidence.get("risk"):
    risk = stored.evidence["risk"]
    st.subheader("Risk factors")
    st.write(
        "Each of the framework's five risk factors is scored from 0 (no risk) to 1; "
        f"evidence exactly at its threshold scores {AT_THRESHOLD:g}. The risk score is the "
        "weighted mean of the factors, but never less than "
        f"{policy.risk.max_factor_floor:g} × the largest one; the score sets the level "
        "and so who must approve."
    )
    st.plotly_chart(risk_factors_figure(risk, policy), key="overview_risk")
    st.dataframe(risk_factor_rows(risk), hide_index=True, key="overview_risk_table")
    approvers = ", ".join(role.replace("_", " ") for role in risk["required_approvers"])
    plan = (
        " A risk mitigation plan is required."
        if risk["mitigation_plan_required"]
        else ""
    )
    st.info(
        f"Risk score {risk['score']:.2f} is **{risk['level']}** risk: approval by "
        f"{approvers}.{plan}"
    )

st.subheader("Two versions side by side")
if len(assessed) < 2:
    st.caption(
        "Assess at least two versions of this model to compare their standards and "
        "metrics here."
    )
else:
    labels = list(assessed)[::-1]
    left, right = st.columns(2)
    first = left.selectbox("Compare version", labels, index=1, key="overview_first")
    second = right.selectbox("with version", labels, index=0, key="overview_second")
    pair = (f"v{first}", f"v{second}")
    evidence = (assessed[first].evidence, assessed[second].evidence)
    st.dataframe(
        compare_standards(*evidence, labels=pair),
        hide_index=True,
        key="overview_compare_standards",
    )
    st.dataframe(
        compare_metrics(*evidence, labels=pair).round(4),
        hide_index=True,
        key="overview_compare_metrics",
    )

st.subheader("Registered data")
spec = chosen_row.data_spec
datasets = [part for part in ("train", "test", "current") if part in spec]
st.dataframe(
    {
        "Dataset": datasets,
        "Rows": [spec[part].get("rows") for part in datasets],
        "Kind": [spec[part].get("kind") for part in datasets],
        "Delta version": [spec[part].get("delta_version") for part in datasets],
        "SHA-256": [spec[part].get("sha256") for part in datasets],
    },
    hide_index=True,
    key="model_datasets",
)
st.write(
    f"Target **{spec.get('target', '—')}** · sensitive features "
    f"**{', '.join(spec.get('sensitive_features', [])) or '—'}** · "
    f"PII columns kept out of the features: {', '.join(spec.get('pii_columns', [])) or '—'}"
)

with st.expander("MLflow registry entry"):
    st.caption("Read from MLflow; the console never loads the model itself.")
    try:
        from governance.registry import Registry

        registry = Registry(settings)
        entry = registry.version(name, version)
        st.write(f"Source `{entry.source}` · status {entry.status}")
        st.write("Aliases: " + (", ".join(entry.aliases) or "none"))
        if entry.run_id:
            run = registry.run(entry.run_id)
            st.write(f"Training code commit: {run.git_commit or 'not recorded'}")
            st.dataframe(
                {"Parameter": list(run.params), "Value": list(run.params.values())},
                hide_index=True,
            )
            st.dataframe(
                {"Metric": list(run.metrics), "Value": list(run.metrics.values())},
                hide_index=True,
            )
    except GovernanceError as exc:
        st.warning(str(exc))
