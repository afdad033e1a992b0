"""Figures of the governance KPIs: one per improvement metric, by month."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import plotly.graph_objects as go

from governance.charts.theme import NEUTRAL_COLOUR, PASS_COLOUR, WARN_COLOUR, layout
from governance.records.kpis import GovernanceKpis

# A month's bar on a date axis, in milliseconds: without it a chart whose series
# holds one month draws a bar one millisecond wide on an axis of milliseconds.
MONTH_BAR_MS = 20 * 86_400_000
# The legend at the top right, clear of the title at the top left.
LEGEND = {
    "orientation": "h",
    "yanchor": "bottom",
    "y": 1.02,
    "x": 1,
    "xanchor": "right",
}


def _month_axis(kpis: GovernanceKpis, title: str) -> dict[str, Any]:
    """A date axis over every month of the period, one labelled tick a month."""
    axis: dict[str, Any] = {"title": title, "type": "date", "tickformat": "%b %Y"}
    if kpis.months:
        first = date.fromisoformat(f"{kpis.months[0]}-01")
        last = date.fromisoformat(f"{kpis.months[-1]}-01")
        margin = timedelta(days=16)
        axis["range"] = [(first - margin).isoformat(), (last + margin).isoformat()]
        axis["dtick"] = f"M{-(-len(kpis.months) // 12)}"
    return axis


def _empty_note(figure: go.Figure, has_data: bool, what: str) -> go.Figure:
    if not has_data:
        figure.add_annotation(
            text=f"No {what} in these months.",
            showarrow=False,
            xref="paper",
            yref="paper",
            x=0.5,
            y=0.5,
        )
    return figure


def cycle_time_figure(kpis: GovernanceKpis) -> go.Figure:
    """Median and mean days from approval request to final decision, per month.

    Returns
    -------
    plotly.graph_objects.Figure
        Bars of the median and a line of the mean, over the months that had
        decisions; the hover names how many decisions each month held.
    """
    rows = kpis.cycle_time
    months = [row.month for row in rows]
    decisions = [row.decisions for row in rows]
    median_days = [row.median_days for row in rows]
    mean_days = [row.mean_days for row in rows]
    figure = go.Figure(
        [
            go.Bar(
                name="Median",
                x=months,
                y=median_days,
                marker_color=NEUTRAL_COLOUR,
                width=MONTH_BAR_MS,
                customdata=decisions,
                hovertemplate="%{x}: median %{y:.1f} days over %{customdata} "
                "decisions<extra></extra>",
            ),
            go.Scatter(
                name="Mean",
                x=months,
                y=mean_days,
                mode="lines+markers",
                line={"color": WARN_COLOUR},
                hovertemplate="%{x}: mean %{y:.1f} days<extra></extra>",
            ),
        ]
    )
    figure.update_layout(
        **layout(
            title="Approval cycle time",
            xaxis=_month_axis(kpis, "Month of the decision"),
            legend=LEGEND,
            # Whole days at least and no SI prefixes: decisions taken within
            # the hour read as a bar at 0, not as a scale of "150n" days.
            yaxis={
                "title": "Days from request to decision",
                "range": [0, 1.1 * max([1.0, *median_days, *mean_days])],
                "tickformat": ",.1~f",
            },
            height=340,
        )
    )
    return _empty_note(figure, bool(rows), "approval decisions")


def compliance_rate_figure(kpis: GovernanceKpis) -> go.Figure:
    """The share of assessed versions passing every standard, per month."""
    rows = kpis.compliance
    figure = go.Figure(
        go.Bar(
            name="Compliance rate",
            x=[row.month for row in rows],
            y=[row.rate for row in rows],
            marker_color=PASS_COLOUR,
            width=MONTH_BAR_MS,
            customdata=[[row.versions_passing, row.versions_assessed] for row in rows],
            hovertemplate="%{x}: %{y:.0%} (%{customdata[0]} of %{customdata[1]} "
            "versions)<extra></extra>",
        )
    )
    figure.update_layout(
        **layout(
            title="Compliance rate",
            xaxis=_month_axis(kpis, "Month of the assessment"),
            yaxis={"title": "Versions passing", "tickformat": ".0%", "range": [0, 1]},
            height=340,
            showlegend=False,
        )
    )
    return _empty_note(figure, bool(rows), "assessments")


def incident_frequency_figure(kpis: GovernanceKpis) -> go.Figure:
    """Incidents reported per month, stacked by kind, every month of the range."""
    counts = kpis.incident_counts()
    figure = go.Figure(
        [
            go.Bar(
                name=kind.capitalize(),
                x=list(kpis.months),
                y=values,
                hovertemplate=f"%{{x}}: %{{y}} {kind} incidents<extra></extra>",
            )
            for kind, values in counts.items()
        ]
    )
    figure.update_layout(
        **layout(
            title="Incident frequency",
            barmode="stack",
            xaxis=_month_axis(kpis, "Month reported"),
            legend=LEGEND,
            yaxis={"title": "Incidents", "rangemode": "tozero", "dtick": 1},
            height=340,
        )
    )
    return _empty_note(figure, bool(counts), "incidents")


def stability_figure(kpis: GovernanceKpis) -> go.Figure:
    """Mean window AUC per model and month, with bars from the lowest to the highest.

    Returns
    -------
    plotly.graph_objects.Figure
        One line per model; each month's point is the mean AUC of its measured
        windows and its error bar spans their lowest to highest AUC.
    """
    models = sorted({row.model_name for row in kpis.stability})
    traces = []
    for model in models:
        rows = [row for row in kpis.stability if row.model_name == model]
        traces.append(
            go.Scatter(
                name=model,
                x=[row.month for row in rows],
                y=[row.auc_mean for row in rows],
                mode="lines+markers",
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [row.auc_max - row.auc_mean for row in rows],
                    "arrayminus": [row.auc_mean - row.auc_min for row in rows],
                },
                customdata=[
                    [row.windows, row.auc_min, row.auc_max, row.auc_spread]
                    for row in rows
                ],
                hovertemplate=(
                    "%{x}: mean AUC %{y:.3f}, %{customdata[1]:.3f}-"
                    "%{customdata[2]:.3f} over %{customdata[0]} windows (spread "
                    "%{customdata[3]:.3f})<extra></extra>"
                ),
            )
        )
    figure = go.Figure(traces)
    figure.update_layout(
        **layout(
            title="Model performance stability",
            xaxis=_month_axis(kpis, "Month of the window"),
            legend=LEGEND,
            yaxis={"title": "Window AUC"},
            height=340,
        )
    )
    return _empty_note(figure, bool(traces), "measured production windows")
