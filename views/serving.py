"""Shadow and canary: the evidence each rollout step was judged on, in detail."""

import streamlit as st

from governance.charts.serving import (
    agreement_chart,
    performance_chart,
    score_distribution_chart,
    selection_rate_chart,
)
from governance.operations.serving import serving_evidence_of, versions_with_evidence
from ui.context import store
from ui.selection import choose_version

_, engine, policy = store()
st.title("Shadow and canary")
st.write(
    "Evidence read from the serving platform's prediction logs while a version is "
    "in shadow and at each canary step. The promotion gate refuses to leave a step "
    "whose latest evidence breaches the policy. Compute evidence on the Deployment "
    "page or with `python -m governance serving evidence`."
)

chosen = choose_version(
    engine,
    key="serving",
    worth_showing=lambda name: versions_with_evidence(engine, name),
)
if chosen is None:
    st.stop()
name, row = chosen
stored = serving_evidence_of(engine, row.id)
if not stored:
    others = versions_with_evidence(engine, name)
    st.info(
        f"No shadow or canary evidence for {name} version {row.version} yet. It is "
        "computed while the version is in shadow or at a canary step."
        + (
            f" Version(s) {', '.join(others)} have some: choose one above."
            if others
            else ""
        )
    )
    st.stop()

st.dataframe(
    {
        "Id": [item.id for item in stored],
        "Step": [item.step_label for item in stored],
        "Passed": ["✅ passed" if item.passed else "❌ breached" for item in stored],
        "Window from": [item.window_start for item in stored],
        "Window to": [item.window_end for item in stored],
        "Log sha256": [item.log_sha256[:16] for item in stored],
        "Policy": [item.policy_version for item in stored],
    },
    hide_index=True,
    key="serving_table",
)
labels = {f"{item.step_label} (evidence {item.id})": item for item in stored}
evidence = labels[st.selectbox("Evidence", list(labels), key="serving_evidence")]
metrics = evidence.metrics
bounds = policy.deployment.evidence

if evidence.passed:
    st.success(f"{evidence.step_label}: every policy bound holds.")
else:
    st.error(f"{evidence.step_label} breaches the policy:")
    for breach in evidence.breaches:
        st.text(f"• {breach['message']}")
for note in evidence.notes:
    st.info(note)
st.caption(
    f"Window {evidence.window_start:%Y-%m-%d %H:%M} to "
    f"{evidence.window_end:%Y-%m-%d %H:%M} UTC · log {evidence.log_path} · "
    f"sha256 {evidence.log_sha256} · computed {evidence.created_at:%Y-%m-%d %H:%M} "
    f"UTC under policy {evidence.policy_version}"
)

numbers = st.columns(3)
if metrics.get("agreement") is not None:
    numbers[0].metric(
        "Decision agreement",
        f"{metrics['agreement']:.1%}",
        f"minimum {bounds.min_shadow_agreement:.0%}",
        delta_arrow="off",
        delta_color="off",
    )
if metrics.get("score_psi") is not None:
    numbers[1].metric(
        "Score PSI",
        f"{metrics['score_psi']:.3f}",
        f"maximum {bounds.max_score_psi:g}",
        delta_arrow="off",
        delta_color="off",
    )
if metrics.get("selection_rate_difference") is not None:
    numbers[2].metric(
        "Selection-rate difference",
        f"{metrics['selection_rate_difference']:.3f}",
        f"maximum {bounds.max_selection_rate_difference:g}",
        delta_arrow="off",
        delta_color="off",
    )

if metrics.get("distribution"):
    st.subheader("Score distributions")
    st.plotly_chart(
        score_distribution_chart(metrics["distribution"]), key="serving_distribution"
    )
if metrics.get("decisions"):
    st.subheader("Agreement")
    st.plotly_chart(
        agreement_chart(
            metrics["decisions"],
            agreement=metrics["agreement"],
            minimum=bounds.min_shadow_agreement,
        ),
        key="serving_agreement",
    )
if metrics.get("selection_rate"):
    canary = evidence.phase == "canary"
    st.subheader("Canary against the rest" if canary else "Selection rate")
    st.plotly_chart(
        selection_rate_chart(metrics["selection_rate"]), key="serving_selection"
    )
st.subheader("Performance")
if metrics.get("performance"):
    st.plotly_chart(
        performance_chart(metrics["performance"]), key="serving_performance"
    )
else:
    st.info("Performance was not judged in this window; the notes above say why.")
