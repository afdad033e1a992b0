"""Model: the versions of one governed model and what the registry knows of them."""

import streamlit as st

from governance.errors import GovernanceError
from governance.inventory import STAGE_TITLES, get_model, list_inventory, list_versions
from ui.assessment import assessment_panel
from ui.context import acting_person, store

settings, engine, _ = store()
names = [row.name for row in list_inventory(engine)]
if not names:
    st.info("No models are governed yet; see the inventory for how to add one.")
    st.stop()

chosen = st.query_params.get("model") or st.session_state.get("model_name")
if chosen not in names:
    chosen = names[0]
name = st.selectbox("Model", names, index=names.index(chosen), key="model_select")
st.session_state["model_name"] = name
st.query_params["model"] = name

model = get_model(engine, name)
st.title(name)
if model.description:
    st.write(model.description)

versions = list_versions(engine, name)
st.subheader("Versions")
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

version = st.selectbox(
    "Version", [row.version for row in versions], key="model_version"
)
chosen_row = next(row for row in versions if row.version == version)
st.subheader(f"Assessment of version {version}")
assessment_panel(settings, engine, acting_person(), name, chosen_row)

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
