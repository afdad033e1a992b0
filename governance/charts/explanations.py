"""Figures of the explanations page: global importance, dependence, one waterfall."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from governance.charts.theme import (
    FAIL_COLOUR,
    MUTED_COLOUR,
    NEUTRAL_COLOUR,
    PASS_COLOUR,
    layout,
)
from governance.errors import InvalidInputError

OUTPUT_TITLES = {"log_odds": "log-odds", "probability": "probability"}


def importance_figure(importance: pd.Series, *, top: int = 20) -> go.Figure:
    """Mean absolute SHAP value per feature, largest at the top.

    Parameters
    ----------
    importance
        `Explanation.global_importance()`: mean |SHAP| indexed by feature.
    top
        Largest number of features drawn.

    Returns
    -------
    plotly.graph_objects.Figure
        One horizontal bar per feature.
    """
    if importance.empty:
        raise InvalidInputError(
            "No feature importance to draw: the explanation is empty."
        )
    shown = importance.sort_values(ascending=False, kind="stable").head(top)[::-1]
    figure = go.Figure(
        go.Bar(
            x=shown.to_numpy(dtype=np.float64),
            y=[str(name) for name in shown.index],
            orientation="h",
            marker={"color": NEUTRAL_COLOUR},
            hovertemplate="%{y}: %{x:.4f}<extra></extra>",
        )
    )
    figure.update_layout(
        **layout(
            xaxis={"title": "Mean |SHAP value|"},
            yaxis={"title": ""},
            height=max(300, 28 * len(shown) + 80),
        )
    )
    return figure


def dependence_figure(
    feature_values: pd.Series, shap_values: np.ndarray, *, output_space: str
) -> go.Figure:
    """A feature's value against its SHAP value, one point per explained row.

    Parameters
    ----------
    feature_values
        The feature's value in each explained row (named after the feature).
    shap_values
        The feature's SHAP value in the same rows.
    output_space
        ``"log_odds"`` or ``"probability"``, for the axis title.

    Returns
    -------
    plotly.graph_objects.Figure
        A scatter; a categorical feature gets one column of points per category.
    """
    values = np.asarray(shap_values, dtype=np.float64)
    if len(feature_values) != len(values):
        raise InvalidInputError(
            f"Got {len(feature_values)} feature values for {len(values)} SHAP values; "
            "pass one of each per explained row."
        )
    is_numeric = pd.api.types.is_numeric_dtype(feature_values)
    x = (
        feature_values.to_numpy()
        if is_numeric
        else feature_values.astype(str).to_numpy()
    )
    figure = go.Figure(
        go.Scatter(
            x=x,
            y=values,
            mode="markers",
            marker={
                "size": 6,
                "opacity": 0.55,
                "color": np.where(values >= 0, FAIL_COLOUR, NEUTRAL_COLOUR).tolist(),
            },
            hovertemplate="value %{x}<br>SHAP %{y:.4f}<extra></extra>",
        )
    )
    figure.add_hline(y=0, line={"color": MUTED_COLOUR, "width": 1})
    figure.update_layout(
        **layout(
            xaxis={"title": str(feature_values.name)},
            yaxis={
                "title": f"SHAP value ({OUTPUT_TITLES.get(output_space, output_space)})"
            },
        )
    )
    return figure


def waterfall_figure(
    contributions: pd.Series,
    *,
    base_value: float,
    output_space: str,
    feature_values: pd.Series | None = None,
    max_features: int = 12,
) -> go.Figure:
    """How one row's SHAP values move the base value to the model's output.

    Parameters
    ----------
    contributions
        The row's SHAP value per feature (`Explanation.row`).
    base_value
        The explanation's base value (the model's average output).
    output_space
        ``"log_odds"`` or ``"probability"``.
    feature_values
        The row's feature values, shown in the labels (mask PII first).
    max_features
        Features with the largest |SHAP value| drawn one by one; the rest are
        summed into one "other features" step, so the total is unchanged.

    Returns
    -------
    plotly.graph_objects.Figure
        One waterfall trace: the base value (absolute), one step per feature
        (relative) and the model output (total), so base plus steps equals output.
    """
    if contributions.empty:
        raise InvalidInputError("The row has no SHAP values to draw.")
    if max_features < 1:
        raise InvalidInputError(f"max_features must be at least 1, got {max_features}.")
    order = contributions.abs().sort_values(ascending=False, kind="stable").index
    steps = contributions[order[:max_features]]
    labels = [_step_label(name, feature_values) for name in steps.index]
    rest = contributions[order[max_features:]]
    if len(rest):
        steps = pd.concat([steps, pd.Series([rest.sum()], index=["other"])])
        labels.append(f"{len(rest)} other features")
    output = float(base_value + contributions.sum())

    space = OUTPUT_TITLES.get(output_space, output_space)
    figure = go.Figure(
        go.Waterfall(
            orientation="h",
            measure=["absolute", *["relative"] * len(steps), "total"],
            y=["Base value", *labels, "Model output"],
            x=[float(base_value), *steps.to_numpy(dtype=np.float64), output],
            increasing={"marker": {"color": FAIL_COLOUR}},
            decreasing={"marker": {"color": NEUTRAL_COLOUR}},
            totals={"marker": {"color": PASS_COLOUR}},
            connector={"line": {"color": MUTED_COLOUR, "width": 1}},
            hovertemplate="%{y}: %{x:.4f}<extra></extra>",
        )
    )
    figure.update_layout(
        **layout(
            xaxis={"title": f"Model output ({space})"},
            yaxis={"autorange": "reversed", "title": ""},
            height=max(320, 30 * (len(steps) + 2) + 80),
            showlegend=False,
        )
    )
    return figure


def _step_label(name: str, feature_values: pd.Series | None) -> str:
    if feature_values is None or name not in feature_values.index:
        return str(name)
    value = feature_values[name]
    if isinstance(value, float):
        text = f"{value:,.0f}" if value.is_integer() else f"{value:.4g}"
    else:
        text = str(value)
    return f"{name} = {text}"
