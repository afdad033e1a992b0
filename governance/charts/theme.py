"""The console's chart theme: one template, one palette, pass and fail colours."""

from __future__ import annotations

from typing import Any

PASS_COLOUR = "#2e7d32"
FAIL_COLOUR = "#c62828"
WARN_COLOUR = "#ef6c00"
NEUTRAL_COLOUR = "#1f5f8b"
MUTED_COLOUR = "#9e9e9e"
REFERENCE_COLOUR = "#1f5f8b"
CURRENT_COLOUR = "#ef6c00"
# Twelve distinct series colours: a drift chart of a dozen features should not
# draw two of them in the same colour.
PALETTE = (
    "#1f5f8b",
    "#ef6c00",
    "#2e7d32",
    "#6a1b9a",
    "#c62828",
    "#00838f",
    "#8d6e63",
    "#ad1457",
    "#827717",
    "#455a64",
    "#f9a825",
    "#3949ab",
)
FONT = "Inter, Segoe UI, Helvetica, Arial, sans-serif"


def layout(**overrides: Any) -> dict[str, Any]:
    """Layout settings every figure starts from; ``overrides`` win."""
    base: dict[str, Any] = {
        "template": "plotly_white",
        "font": {"family": FONT, "size": 13},
        "colorway": list(PALETTE),
        "margin": {"l": 10, "r": 10, "t": 50, "b": 10},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        "hoverlabel": {"font": {"family": FONT}},
    }
    base.update(overrides)
    return base


def verdict_colour(passed: bool | None) -> str:
    """Green for a pass, red for a fail, grey for not assessable."""
    if passed is None:
        return MUTED_COLOUR
    return PASS_COLOUR if passed else FAIL_COLOUR
