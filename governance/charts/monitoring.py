"""Figures of the monitoring page: each measurement per window against its lines.

Every builder takes window labels (oldest first) and one value per window (None
where a window was not measured, drawn as a gap), plus the policy's lines, and
returns a plotly Figure; none renders anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from governance.charts.theme import (
    FAIL_COLOUR,
    MUTED_COLOUR,
    NEUTRAL_COLOUR,
    WARN_COLOUR,
    layout,
)

Values = Sequence[float | None]


def performance_chart(
    labels: Sequence[str],
    values: Values,
    *,
    metric: str,
    baseline: float | None,
    trigger_line: float | None,
) -> go.Figure:
    """One performance metric per window, with the baseline and the trigger line.

    Returns
    -------
    plotly.graph_objects.Figure
        One line trace named ``metric``; the baseline and the trigger line are
        horizontal shapes with annotations.
    """
    lines = []
    if baseline is not None:
        lines.append((baseline, f"baseline {baseline:.3f}", MUTED_COLOUR))
    if trigger_line is not None:
        lines.append((trigger_line, f"trigger {trigger_line:.3f}", FAIL_COLOUR))
    return _over_time(
        labels,
        {metric: values},
        lines,
        title=f"{metric.upper() if metric == 'auc' else metric.title()} per window",
        y_title=metric,
    )


def feature_psi_chart(
    labels: Sequence[str],
    psi: Mapping[str, Values],
    *,
    psi_warn: float,
    psi_retrain: float,
) -> go.Figure:
    """PSI of each feature per window, with the warn and retrain lines."""
    return _over_time(
        labels,
        psi,
        [
            (psi_warn, f"warn {psi_warn:g}", WARN_COLOUR),
            (psi_retrain, f"retrain {psi_retrain:g}", FAIL_COLOUR),
        ],
        title="Feature drift per window (PSI against the training data)",
        y_title="PSI",
    )


def score_psi_chart(
    labels: Sequence[str], values: Values, *, psi_warn: float, psi_retrain: float
) -> go.Figure:
    """PSI of the scores per window against the test-set scores."""
    return _over_time(
        labels,
        {"scores": values},
        [
            (psi_warn, f"warn {psi_warn:g}", WARN_COLOUR),
            (psi_retrain, f"retrain {psi_retrain:g}", FAIL_COLOUR),
        ],
        title="Score drift per window (PSI against the test-set scores)",
        y_title="PSI",
    )


def disparity_chart(
    labels: Sequence[str], disparities: Mapping[str, Values], *, bound: float
) -> go.Figure:
    """Demographic parity difference per sensitive feature per window."""
    return _over_time(
        labels,
        disparities,
        [(bound, f"bound {bound:g}", FAIL_COLOUR)],
        title="Demographic parity difference per window",
        y_title="difference",
    )


def _over_time(
    labels: Sequence[str],
    series: Mapping[str, Values],
    lines: list[tuple[float, str, str]],
    *,
    title: str,
    y_title: str,
) -> go.Figure:
    figure = go.Figure()
    for name, values in series.items():
        figure.add_trace(
            go.Scatter(
                x=list(labels),
                y=list(values),
                mode="lines+markers",
                name=name,
                connectgaps=False,
                hovertemplate=f"{name} %{{x}}: %{{y:.4f}}<extra></extra>",
            )
        )
    for value, text, colour in lines:
        figure.add_hline(
            y=value,
            line_dash="dash",
            line_color=colour,
            annotation_text=text,
            annotation_position="top left",
        )
    if len(series) == 1:
        figure.update_traces(line_color=NEUTRAL_COLOUR)
    figure.update_layout(
        **layout(
            title=title,
            height=340,
            xaxis_title="window",
            yaxis_title=y_title,
            xaxis={"type": "category"},
        )
    )
    if len(series) > 3:
        # Many features: a column at the right, where rows above the plot would
        # run into the title.
        figure.update_layout(
            legend={"orientation": "v", "yanchor": "top", "y": 1, "x": 1.02}
        )
    return figure
