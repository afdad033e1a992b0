"""Figures of the drift page: PSI per feature, distributions, drift over time.

Every builder takes the stored drift evidence (see ``governance.assessment.drift``)
and the policy's thresholds, and returns a plotly Figure; none renders anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from governance.charts.theme import (
    CURRENT_COLOUR,
    FAIL_COLOUR,
    PASS_COLOUR,
    REFERENCE_COLOUR,
    WARN_COLOUR,
    layout,
)

FLAG_COLOURS = {"ok": PASS_COLOUR, "warn": WARN_COLOUR, "retrain": FAIL_COLOUR}
FLAG_WORDS = {
    "ok": "stable",
    "warn": "moderate shift",
    "retrain": "retraining trigger",
}


def psi_bar_chart(
    psi: Mapping[str, float],
    flags: Mapping[str, str],
    *,
    psi_warn: float,
    psi_retrain: float,
) -> go.Figure:
    """PSI per feature as horizontal bars, most drifted on top, with threshold lines.

    Parameters
    ----------
    psi
        PSI per feature.
    flags
        ``"ok"``, ``"warn"`` or ``"retrain"`` per feature; colours the bars.
    psi_warn, psi_retrain
        The policy's thresholds, drawn as dashed vertical lines.

    Returns
    -------
    plotly.graph_objects.Figure
        One bar trace; ``y`` holds the features in ascending PSI, so the largest
        is drawn on top.
    """
    names = sorted(psi, key=psi.__getitem__)
    values = [psi[name] for name in names]
    colours = [FLAG_COLOURS[flags.get(name, "ok")] for name in names]
    figure = go.Figure(
        go.Bar(
            x=values,
            y=names,
            orientation="h",
            marker_color=colours,
            customdata=[FLAG_WORDS[flags.get(name, "ok")] for name in names],
            text=[f"{value:.3f}" for value in values],
            textposition="outside",
            hovertemplate="%{y}: PSI %{x:.4f} (%{customdata})<extra></extra>",
            name="PSI",
        )
    )
    _threshold_line(figure, psi_warn, f"warn {psi_warn:g}", WARN_COLOUR)
    _threshold_line(figure, psi_retrain, f"retrain {psi_retrain:g}", FAIL_COLOUR)
    top = max([*values, psi_retrain]) * 1.2
    figure.update_layout(
        **layout(
            title="Population stability index per feature (reference vs current)",
            height=max(260, 32 * len(names) + 120),
            showlegend=False,
        )
    )
    figure.update_xaxes(title="PSI", range=[0, top])
    return figure


def _threshold_line(figure: go.Figure, x: float, label: str, colour: str) -> None:
    figure.add_vline(
        x=x,
        line_dash="dash",
        line_color=colour,
        annotation_text=label,
        annotation_position="top",
        annotation_font_color=colour,
    )


def distribution_chart(distribution: Mapping[str, Any], feature: str) -> go.Figure:
    """Reference and current share of rows per bin of one feature, side by side.

    Parameters
    ----------
    distribution
        ``labels``, ``reference_share`` and ``current_share`` of the feature, as
        stored under ``drift.distributions``.
    feature
        The feature's name, for the title.

    Returns
    -------
    plotly.graph_objects.Figure
        Two bar traces, ``reference`` then ``current``.
    """
    labels = list(distribution["labels"])
    figure = go.Figure(
        [
            _share_bars(labels, distribution["reference_share"], "reference"),
            _share_bars(labels, distribution["current_share"], "current"),
        ]
    )
    figure.update_layout(
        **layout(
            title=f"{feature}: share of rows per bin",
            barmode="group",
            height=400,
            margin={"l": 10, "r": 10, "t": 90, "b": 10},
        )
    )
    figure.update_yaxes(title="share of rows", tickformat=".0%")
    figure.update_xaxes(title=feature, type="category")
    return figure


def _share_bars(labels: list[str], shares: Sequence[float], name: str) -> go.Bar:
    colour = REFERENCE_COLOUR if name == "reference" else CURRENT_COLOUR
    return go.Bar(
        x=labels,
        y=list(shares),
        name=name,
        marker_color=colour,
        hovertemplate=f"{name} %{{x}}: %{{y:.1%}}<extra></extra>",
    )


def drift_heatmap(
    windows: Mapping[str, Mapping[str, float]],
    *,
    psi_warn: float,
    psi_retrain: float,
) -> go.Figure:
    """PSI of each feature in each monthly window of the current data.

    The colour scale is green up to ``psi_warn``, orange up to ``psi_retrain`` and
    red beyond, so a cell's colour reads as its flag.

    Parameters
    ----------
    windows
        Month (``YYYY-MM``) to feature to PSI against the reference.
    psi_warn, psi_retrain
        The policy's thresholds.

    Returns
    -------
    plotly.graph_objects.Figure
        One heatmap trace: ``x`` every month from the first to the last, ``y`` the
        features in ascending peak PSI (the most drifted is drawn on top), ``z`` one
        row per feature; a month without rows holds None.
    """
    months = month_range(windows)
    peak: dict[str, float] = {}
    for values in windows.values():
        for name, value in values.items():
            peak[name] = max(peak.get(name, 0.0), value)
    features = sorted(peak, key=lambda name: (peak[name], name))
    z = [[windows.get(month, {}).get(name) for month in months] for name in features]
    top = max([psi_retrain * 2, *(v for row in z for v in row if v is not None)])
    figure = go.Figure(
        go.Heatmap(
            x=months,
            y=features,
            z=z,
            zmin=0,
            zmax=top,
            colorscale=_flag_scale(psi_warn / top, psi_retrain / top),
            texttemplate="%{z:.2f}",
            hovertemplate="%{y} in %{x}: PSI %{z:.4f}<extra></extra>",
            colorbar={"title": "PSI"},
        )
    )
    figure.update_layout(
        **layout(
            title="Drift per month of the current data",
            height=max(260, 30 * len(features) + 140),
        )
    )
    figure.update_xaxes(title="month", type="category")
    return figure


def _flag_scale(warn: float, retrain: float) -> list[list[Any]]:
    return [
        [0.0, "#f1f8e9"],
        [warn, "#a5d6a7"],
        [warn, "#ffe0b2"],
        [retrain, "#ffb74d"],
        [retrain, "#ef9a9a"],
        [1.0, FAIL_COLOUR],
    ]


def month_range(windows: Mapping[str, Any]) -> list[str]:
    """Every month (``YYYY-MM``) from the first to the last key of ``windows``.

    Parameters
    ----------
    windows
        Keyed by month, ``YYYY-MM``.

    Returns
    -------
    list[str]
        The months in order, including those absent from ``windows``.
    """
    if not windows:
        return []
    first, last = min(windows), max(windows)
    year, month = int(first[:4]), int(first[5:7])
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def empty_months(windows: Mapping[str, Any]) -> list[str]:
    """Months between the first and the last window that hold no current row."""
    return [month for month in month_range(windows) if month not in windows]
