"""Monitoring figures: values per window and the policy's lines."""

import pytest

from governance.charts.monitoring import (
    disparity_chart,
    feature_psi_chart,
    performance_chart,
    score_psi_chart,
)

LABELS = ["2026-01", "2026-02", "2026-03"]


def _lines(figure):
    return sorted(
        (shape.y0, annotation.text)
        for shape, annotation in zip(
            figure.layout.shapes, figure.layout.annotations, strict=True
        )
    )


def test_performance_draws_the_metric_the_baseline_and_the_trigger():
    figure = performance_chart(
        LABELS, [0.81, None, 0.7], metric="auc", baseline=0.82, trigger_line=0.738
    )

    [trace] = figure.data
    assert (trace.name, list(trace.x), list(trace.y)) == (
        "auc",
        LABELS,
        [0.81, None, 0.7],
    )
    assert _lines(figure) == [(0.738, "trigger 0.738"), (0.82, "baseline 0.820")]
    assert figure.layout.title.text == "AUC per window"


def test_performance_without_a_baseline_draws_no_line():
    figure = performance_chart(
        LABELS, [0.5, 0.6, 0.7], metric="recall", baseline=None, trigger_line=None
    )

    assert figure.layout.shapes == ()


def test_feature_psi_has_a_line_per_feature_and_the_policy_lines(policy):
    warn, retrain = policy.drift.psi_warn, policy.drift.psi_retrain
    psi = {"visits": [0.01, 0.12, 0.4], "region": [0.0, 0.0, None]}

    figure = feature_psi_chart(LABELS, psi, psi_warn=warn, psi_retrain=retrain)

    assert {trace.name: list(trace.y) for trace in figure.data} == psi
    assert _lines(figure) == [
        (warn, f"warn {warn:g}"),
        (retrain, f"retrain {retrain:g}"),
    ]


def test_score_psi_and_disparities_carry_their_values(policy):
    bound = policy.fairness.max_demographic_parity_difference

    scores = score_psi_chart(LABELS, [0.01, 0.2, 0.3], psi_warn=0.1, psi_retrain=0.25)
    fairness = disparity_chart(LABELS, {"region": [0.02, 0.05, 0.11]}, bound=bound)

    assert list(scores.data[0].y) == [0.01, 0.2, 0.3]
    assert [trace.name for trace in fairness.data] == ["region"]
    assert _lines(fairness) == [(pytest.approx(bound), f"bound {bound:g}")]
