"""Plotly figure helpers shared by the tabs: one look, and an honest empty state."""

from __future__ import annotations

import plotly.graph_objects as go

PALETTE = (
    "#2563eb", "#f97316", "#10b981", "#a855f7", "#ef4444", "#0ea5e9", "#eab308", "#14b8a6",
    "#ec4899", "#64748b", "#84cc16", "#6366f1",
)  # fmt: skip
OTHER_COLOUR = "#cbd5e1"


def base_layout(fig: go.Figure, height: int = 320) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        height=height,
        margin={"l": 48, "r": 16, "t": 24, "b": 40},
        legend={"orientation": "h", "y": -0.18},
        hovermode="x unified",
        font={"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
        colorway=PALETTE,
    )
    return fig


def message_figure(text: str, height: int = 320) -> go.Figure:
    """A chart area that says why there is nothing to draw, instead of empty axes."""
    fig = go.Figure()
    fig.add_annotation(text=text, showarrow=False, font={"size": 15, "color": "#64748b"}, x=0.5, y=0.5,
                       xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(template="plotly_white", height=height, margin={"l": 16, "r": 16, "t": 16, "b": 16})
    return fig


NO_INTERACTIONS = "No interactions in this period"


def count_axis(max_value: float, title: str | None = None) -> dict:
    """A y axis for counts: whole numbers only, thousands separated."""
    axis = {"title": title, "rangemode": "tozero", "tickformat": ",d"}
    if max_value <= 10:
        axis["dtick"] = 1 if max_value <= 5 else 2
    return axis


def money_axis(max_value: float) -> dict:
    """A y axis in dollars: cents shown only where the amounts are small."""
    return {"rangemode": "tozero", "tickformat": "$,.2f" if max_value < 10 else "$,.0f"}
