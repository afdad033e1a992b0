"""Figures of the model overview: versions on a timeline, the five risk factors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from governance.charts.theme import (
    FAIL_COLOUR,
    MUTED_COLOUR,
    PASS_COLOUR,
    WARN_COLOUR,
    layout,
)
from governance.errors import InvalidInputError
from governance.inventory import STAGE_TITLES, STAGES, VersionRow
from governance.policy import Policy
from governance.review import FACTOR_TITLES

LEVEL_COLOURS = {"low": PASS_COLOUR, "medium": WARN_COLOUR, "high": FAIL_COLOUR}


def version_timeline_figure(versions: Sequence[VersionRow]) -> go.Figure:
    """Each version at its registration time, on the row of its current stage.

    Parameters
    ----------
    versions
        The model's versions (`governance.inventory.list_versions`).

    Returns
    -------
    plotly.graph_objects.Figure
        One marker per version, labelled with the version and coloured by its
        latest risk level (grey when unassessed); the y axis lists the stages in
        workflow order.
    """
    if not versions:
        raise InvalidInputError("The model has no versions to put on a timeline.")
    ordered = sorted(versions, key=lambda row: row.registered_at)
    figure = go.Figure(
        go.Scatter(
            x=[row.registered_at for row in ordered],
            y=[STAGE_TITLES.get(row.stage, row.stage) for row in ordered],
            mode="markers+text+lines",
            text=[f"v{row.version}" for row in ordered],
            textposition="top center",
            marker={
                "size": 16,
                "color": [
                    LEVEL_COLOURS.get(row.risk_level or "", MUTED_COLOUR)
                    for row in ordered
                ],
                "line": {"color": "white", "width": 1},
            },
            line={"color": MUTED_COLOUR, "width": 1, "dash": "dot"},
            customdata=[
                [row.version, row.risk_level or "unassessed"] for row in ordered
            ],
            hovertemplate=(
                "version %{customdata[0]}<br>%{y} · risk %{customdata[1]}"
                "<br>registered %{x|%Y-%m-%d %H:%M}<extra></extra>"
            ),
        )
    )
    figure.update_layout(
        **layout(
            xaxis={"title": "Registered"},
            yaxis={
                "title": "",
                "categoryorder": "array",
                "categoryarray": [STAGE_TITLES[stage] for stage in STAGES],
                "range": [-0.5, len(STAGES) - 0.5],
            },
            height=320,
            showlegend=False,
        )
    )
    return figure


def risk_factors_figure(risk: Mapping[str, Any], policy: Policy) -> go.Figure:
    """The five risk factors as bars against the policy's risk bands.

    Parameters
    ----------
    risk
        The ``risk`` section of an evidence document (factors, drivers, score,
        level, unassessed).
    policy
        The governance policy; its band edges are drawn as vertical lines and
        colour each bar by the level its score would have.

    Returns
    -------
    plotly.graph_objects.Figure
        One horizontal bar per factor, with what drove it on hover.
    """
    factors: Mapping[str, float] = risk.get("factors") or {}
    if not factors:
        raise InvalidInputError("The evidence has no risk factors to draw.")
    drivers: Mapping[str, str] = risk.get("drivers") or {}
    unassessed = set(risk.get("unassessed") or [])
    names = list(factors)[::-1]
    bands = policy.risk

    figure = go.Figure(
        go.Bar(
            x=[float(factors[name]) for name in names],
            y=[_factor_label(name, name in unassessed) for name in names],
            orientation="h",
            marker={
                "color": [
                    LEVEL_COLOURS[bands.level(float(factors[name]))] for name in names
                ]
            },
            text=[f"{float(factors[name]):.2f}" for name in names],
            textposition="outside",
            customdata=[drivers.get(name, "") for name in names],
            hovertemplate="%{y}: %{x:.3f}<br>%{customdata}<extra></extra>",
        )
    )
    for edge, words in (
        (bands.medium_from, f"medium from {bands.medium_from:g}"),
        (bands.high_above, f"high above {bands.high_above:g}"),
    ):
        figure.add_vline(
            x=edge,
            line={"color": MUTED_COLOUR, "dash": "dash", "width": 1},
            annotation_text=words,
            annotation_position="top",
        )
    score, level = risk.get("score"), risk.get("level")
    title = f"Risk score {float(score):.2f}: {level} risk" if score is not None else ""
    figure.update_layout(
        **layout(
            title=title,
            xaxis={
                "title": "Factor score (0 = no risk, 1 = full risk)",
                "range": [0, 1.1],
            },
            yaxis={"title": ""},
            height=320,
            showlegend=False,
        )
    )
    return figure


def _factor_label(name: str, is_unassessed: bool) -> str:
    title = FACTOR_TITLES.get(name, name)
    return f"{title} (not assessed)" if is_unassessed else title
