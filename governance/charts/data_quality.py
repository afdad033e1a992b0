"""Figures and tables of the data quality page.

Builders take the stored ``data_standards`` evidence (see
``governance.assessment.data_standards``) and the policy's thresholds; figures are
plotly Figures, tables are lists of plain rows. None renders anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import plotly.graph_objects as go

from governance.charts.theme import NEUTRAL_COLOUR, layout, verdict_colour

QUALITY_PARTS = ("completeness", "validity", "uniqueness", "consistency")


def verdict_word(passed: bool | None) -> str:
    """``"pass"``, ``"fail"``, or ``"not assessed"`` for a check that was not run."""
    if passed is None:
        return "not assessed"
    return "pass" if passed else "fail"


def find_standard(standards: Iterable[Mapping[str, Any]], name: str) -> dict[str, Any]:
    """The stored standard row called ``name``, or an empty dict when absent.

    Parameters
    ----------
    standards
        Standard rows (``name``, ``value``, ``threshold``, ``passed``, ``detail``).
    name
        The standard's stable name, e.g. ``"training_rows"``.

    Returns
    -------
    dict
        A copy of the row.
    """
    return next((dict(row) for row in standards if row["name"] == name), {})


def quality_chart(
    data_standards: Mapping[str, Any], *, min_quality_score: float
) -> go.Figure:
    """The quality score and its four parts as bars against the policy minimum.

    Parameters
    ----------
    data_standards
        The stored data standards evidence.
    min_quality_score
        The policy's minimum quality score, drawn as a dashed line.

    Returns
    -------
    plotly.graph_objects.Figure
        One bar trace: ``x`` is ``quality score`` then the four parts, ``y`` their
        values; a bar at or above the minimum is green, below it red.
    """
    names = ["quality_score", *QUALITY_PARTS]
    values = [float(data_standards[name]) for name in names]
    floor = max(0.0, min([*values, min_quality_score]) - 0.05)
    figure = go.Figure(
        go.Bar(
            x=[name.replace("_", " ") for name in names],
            y=values,
            marker_color=[
                verdict_colour(value >= min_quality_score) for value in values
            ],
            text=[f"{value:.2%}" for value in values],
            textposition="outside",
            hovertemplate="%{x}: %{y:.4%}<extra></extra>",
            name="share",
        )
    )
    figure.add_hline(
        y=min_quality_score,
        line_dash="dash",
        line_color=verdict_colour(False),
        annotation_text=f"minimum {min_quality_score:.0%}",
        annotation_position="bottom right",
        annotation_bgcolor="white",
    )
    figure.update_layout(**layout(title="Data quality score and its parts", height=360))
    figure.update_yaxes(range=[floor, 1.01], tickformat=".0%")
    return figure


def missing_values_chart(missing_share: Mapping[str, float]) -> go.Figure:
    """Share of missing cells per assessed column, most missing on top.

    Parameters
    ----------
    missing_share
        Share of missing cells per column (features and target).

    Returns
    -------
    plotly.graph_objects.Figure
        One horizontal bar trace, ``y`` the columns in ascending share.
    """
    names = sorted(missing_share, key=lambda name: (missing_share[name], name))
    values = [float(missing_share[name]) for name in names]
    figure = go.Figure(
        go.Bar(
            x=values,
            y=names,
            orientation="h",
            marker_color=NEUTRAL_COLOUR,
            text=[f"{value:.1%}" for value in values],
            textposition="outside",
            hovertemplate="%{y}: %{x:.2%} missing<extra></extra>",
            name="missing",
        )
    )
    figure.update_layout(
        **layout(
            title="Missing values per column (training data)",
            height=max(240, 26 * len(names) + 110),
            showlegend=False,
        )
    )
    figure.update_xaxes(
        title="share of rows missing",
        tickformat=".1%",
        range=[0, max([*values, 0.01]) * 1.25],
    )
    return figure


def pii_scan_rows(
    data_standards: Mapping[str, Any],
    *,
    declared: Iterable[str],
    features: Iterable[str],
    pii_in_features_allowed: bool,
) -> list[dict[str, str]]:
    """One row per column that holds personal data: how it was found, and the verdict.

    A column is PII when it was declared at registration or detected by
    ``governance.assessment.pii`` from its name or its values. A PII column used as
    a feature fails unless the policy allows it; elsewhere in the data it is listed.

    Parameters
    ----------
    data_standards
        The stored data standards evidence (``pii_findings``, ``pii_in_features``,
        ``pii_elsewhere``).
    declared
        The PII columns declared when the version was registered.
    features
        The model's input features.
    pii_in_features_allowed
        ``policy.data_standards.pii_in_features_allowed``.

    Returns
    -------
    list[dict[str, str]]
        Rows with ``Column``, ``Kind``, ``Found by``, ``Used as feature`` and
        ``Result``, in the order declared, then detected.
    """
    findings = {row["column"]: row for row in data_standards.get("pii_findings", [])}
    declared = list(declared)
    features = set(features)
    columns = [
        *declared,
        *data_standards.get("pii_in_features", []),
        *data_standards.get("pii_elsewhere", []),
        *findings,
    ]
    rows = []
    for column in dict.fromkeys(columns):
        in_features = column in features
        rows.append(
            {
                "Column": column,
                "Kind": findings.get(column, {}).get("kind", "declared"),
                "Found by": _found_by(column in declared, findings.get(column)),
                "Used as feature": "yes" if in_features else "no",
                "Result": "fail"
                if in_features and not pii_in_features_allowed
                else "listed",
            }
        )
    return rows


def _found_by(is_declared: bool, finding: Mapping[str, Any] | None) -> str:
    ways = ["declared"] if is_declared else []
    if finding is not None:
        share = float(finding["share"])
        is_name = finding["reason"] == "name"
        ways.append("column name" if is_name else f"values ({share:.0%} of a sample)")
    return ", ".join(ways)
