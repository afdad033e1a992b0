"""Figures of the shadow and canary page.

Each builder takes the metrics stored with one shadow or canary evidence
(``governance.operations.serving``) and returns a plotly Figure; none renders.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import plotly.graph_objects as go

from governance.charts.theme import (
    CURRENT_COLOUR,
    FAIL_COLOUR,
    MUTED_COLOUR,
    PASS_COLOUR,
    REFERENCE_COLOUR,
    layout,
)

_SERIES_COLOURS = (CURRENT_COLOUR, REFERENCE_COLOUR)
_DECISIONS = (
    ("both_positive", "both select"),
    ("candidate_only", "only the candidate selects"),
    ("baseline_only", "only production selects"),
    ("both_negative", "neither selects"),
)


def score_distribution_chart(distribution: Mapping[str, Any]) -> go.Figure:
    """Share of scores per bin of [0, 1], one bar trace per compared group.

    Parameters
    ----------
    distribution
        ``{"edges": [...], "series": {label: shares}}`` as stored.

    Returns
    -------
    plotly.graph_objects.Figure
        One trace per group, in stored order (the candidate or canary first);
        ``x`` holds the bin centres.
    """
    edges = list(distribution["edges"])
    centres = [(low + high) / 2 for low, high in zip(edges, edges[1:], strict=False)]
    figure = go.Figure()
    for index, (label, shares) in enumerate(distribution["series"].items()):
        figure.add_trace(
            go.Bar(
                x=centres,
                y=list(shares),
                name=label,
                marker_color=_SERIES_COLOURS[index % len(_SERIES_COLOURS)],
                opacity=0.75,
                hovertemplate="score %{x:.2f}: %{y:.1%}<extra>" + label + "</extra>",
            )
        )
    figure.update_layout(
        **layout(
            title="Score distributions",
            barmode="overlay",
            height=340,
            xaxis={"title": "score", "range": [0, 1]},
            yaxis={"title": "share of predictions", "tickformat": ".0%"},
        )
    )
    return figure


def agreement_chart(
    decisions: Mapping[str, int], *, agreement: float, minimum: float
) -> go.Figure:
    """Paired requests by what each version decided, agreeing ones in green.

    Parameters
    ----------
    decisions
        Counts of ``both_positive``, ``candidate_only``, ``baseline_only`` and
        ``both_negative`` paired requests.
    agreement, minimum
        The share that agreed and the policy's minimum, for the title.

    Returns
    -------
    plotly.graph_objects.Figure
        One bar trace with the four counts in that order.
    """
    keys = [key for key, _ in _DECISIONS]
    colours = [
        PASS_COLOUR if key in ("both_positive", "both_negative") else FAIL_COLOUR
        for key in keys
    ]
    figure = go.Figure(
        go.Bar(
            x=[label for _, label in _DECISIONS],
            y=[int(decisions[key]) for key in keys],
            marker_color=colours,
            text=[int(decisions[key]) for key in keys],
            textposition="outside",
            hovertemplate="%{x}: %{y} requests<extra></extra>",
        )
    )
    figure.update_layout(
        **layout(
            title=f"Decision agreement {agreement:.1%} (policy minimum {minimum:.0%})",
            height=320,
            showlegend=False,
            yaxis={"title": "paired requests"},
        )
    )
    return figure


def performance_chart(performance: Mapping[str, Any]) -> go.Figure:
    """AUC, precision and recall of each compared group, side by side.

    Parameters
    ----------
    performance
        ``{label: {"auc": .., "precision": .., "recall": ..}, "rows": {...}}``.

    Returns
    -------
    plotly.graph_objects.Figure
        One bar trace per group; ``x`` holds the metric names.
    """
    names = ["auc", "precision", "recall"]
    groups = [label for label in performance if label != "rows"]
    figure = go.Figure()
    for index, label in enumerate(groups):
        figure.add_trace(
            go.Bar(
                x=["AUC", "precision", "recall"],
                y=[performance[label][name] for name in names],
                name=label,
                marker_color=_SERIES_COLOURS[index % len(_SERIES_COLOURS)]
                if len(groups) > 1
                else CURRENT_COLOUR,
                text=[f"{performance[label][name]:.3f}" for name in names],
                textposition="outside",
            )
        )
    figure.update_layout(
        **layout(
            title="Performance on the predictions with an outcome",
            barmode="group",
            height=320,
            yaxis={"range": [0, 1.1], "title": ""},
        )
    )
    return figure


def selection_rate_chart(selection_rate: Mapping[str, float]) -> go.Figure:
    """Share of predictions each group selects at its own threshold.

    Returns
    -------
    plotly.graph_objects.Figure
        One bar trace; ``x`` holds the groups in stored order.
    """
    labels = list(selection_rate)
    figure = go.Figure(
        go.Bar(
            x=labels,
            y=[selection_rate[label] for label in labels],
            marker_color=[CURRENT_COLOUR, *[MUTED_COLOUR] * (len(labels) - 1)],
            text=[f"{selection_rate[label]:.1%}" for label in labels],
            textposition="outside",
        )
    )
    figure.update_layout(
        **layout(
            title="Selection rate",
            height=300,
            showlegend=False,
            yaxis={"tickformat": ".0%", "range": [0, 1]},
        )
    )
    return figure
