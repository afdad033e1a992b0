"""Figures of the fairness page: group rates with intervals, disparity by threshold."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from governance.assessment.fairness import RATE_COLUMNS, ThresholdDisparities
from governance.charts.theme import (
    FAIL_COLOUR,
    MUTED_COLOUR,
    NEUTRAL_COLOUR,
    PALETTE,
    WARN_COLOUR,
    layout,
)
from governance.errors import InvalidInputError
from governance.review import RATE_TITLES


def group_rates_figure(groups: pd.DataFrame) -> go.Figure:
    """Selection rate, true and false positive rate per group, with intervals.

    Parameters
    ----------
    groups
        One row per group, indexed by group label, with ``count``, the three
        rates, their ``<rate>_low`` / ``<rate>_high`` bounds and ``is_too_small``
        (`governance.review.with_intervals`).

    Returns
    -------
    plotly.graph_objects.Figure
        One bar trace per rate, one bar per group; error bars span the interval.
        Groups too small to judge are drawn pale and labelled so.
    """
    missing = [
        name
        for name in ("count", "is_too_small", *RATE_COLUMNS)
        if name not in groups.columns
    ]
    if missing or groups.empty:
        raise InvalidInputError(
            f"The group table lacks {', '.join(missing) or 'rows'}; build it with "
            "governance.review.with_intervals."
        )
    labels = [
        f"{group} (n={count}{', too small' if small else ''})"
        for group, count, small in zip(
            groups.index, groups["count"], groups["is_too_small"], strict=True
        )
    ]
    opacity = np.where(groups["is_too_small"].to_numpy(dtype=bool), 0.35, 1.0)

    figure = go.Figure()
    for colour, rate in zip(PALETTE, RATE_COLUMNS, strict=False):
        values = groups[rate].to_numpy(dtype=np.float64)
        low = groups.get(f"{rate}_low", groups[rate]).to_numpy(dtype=np.float64)
        high = groups.get(f"{rate}_high", groups[rate]).to_numpy(dtype=np.float64)
        figure.add_trace(
            go.Bar(
                name=RATE_TITLES[rate],
                x=labels,
                y=values,
                marker={"color": colour, "opacity": opacity.tolist()},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": np.nan_to_num(high - values).tolist(),
                    "arrayminus": np.nan_to_num(values - low).tolist(),
                    "color": "#424242",
                    "thickness": 1.2,
                },
                customdata=np.column_stack([low, high]),
                hovertemplate=(
                    "%{x}<br>%{fullData.name}: %{y:.3f}"
                    "<br>95% interval %{customdata[0]:.3f} to %{customdata[1]:.3f}"
                    "<extra></extra>"
                ),
            )
        )
    figure.update_layout(
        **layout(
            barmode="group",
            yaxis={"title": "Rate", "range": [0, 1.05]},
            xaxis={"title": ""},
        )
    )
    return figure


def disparity_curve_figure(
    disparities: ThresholdDisparities,
    *,
    maximum: float,
    chosen_threshold: float,
    decision_threshold: float,
) -> go.Figure:
    """Demographic parity and equalized odds differences across thresholds.

    Parameters
    ----------
    disparities
        Differences at a grid of thresholds (`ThresholdSweep.at`).
    maximum
        The policy's maximum difference, drawn as a horizontal line.
    chosen_threshold
        The slider's threshold, drawn as a solid vertical line.
    decision_threshold
        The version's registered decision threshold, drawn dashed.

    Returns
    -------
    plotly.graph_objects.Figure
        Two lines (demographic parity difference, equalized odds difference).
    """
    thresholds = disparities.thresholds
    figure = go.Figure()
    for name, values, colour, dash in (
        (
            "Demographic parity difference (standard)",
            disparities.demographic_parity_difference,
            NEUTRAL_COLOUR,
            "solid",
        ),
        (
            "Equalized odds difference (indicator)",
            disparities.equalized_odds_difference,
            WARN_COLOUR,
            "dot",
        ),
    ):
        figure.add_trace(
            go.Scatter(
                name=name,
                x=thresholds,
                y=values,
                mode="lines",
                line={"color": colour, "dash": dash, "width": 2},
                hovertemplate="threshold %{x:.2f}: %{y:.3f}<extra></extra>",
            )
        )
    figure.add_hline(
        y=maximum,
        line={"color": FAIL_COLOUR, "dash": "dash", "width": 1},
        annotation_text=f"policy maximum {maximum:g}",
        annotation_position="top left",
    )
    figure.add_vline(
        x=decision_threshold,
        line={"color": MUTED_COLOUR, "dash": "dash", "width": 1},
        annotation_text="registered threshold",
        annotation_position="top right",
    )
    figure.add_vline(x=chosen_threshold, line={"color": "#424242", "width": 1.5})
    figure.update_layout(
        **layout(
            xaxis={"title": "Decision threshold", "range": [0, 1]},
            yaxis={"title": "Difference between groups", "rangemode": "tozero"},
        )
    )
    return figure


def threshold_grid(points: int) -> Sequence[float]:
    """Evenly spaced thresholds from 0 to 1 for `disparity_curve_figure`."""
    if points < 2:
        raise InvalidInputError(
            f"A threshold grid needs at least 2 points, got {points}."
        )
    return np.linspace(0.0, 1.0, points).tolist()
