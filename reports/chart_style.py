"""The charts' look, shared by the tabs and the HTML report: colours, font and ticks for counts.

Here rather than in callbacks/_figures.py because the report files are made below the callbacks
(callbacks import reports, not the other way round).
"""

from __future__ import annotations

# Okabe-Ito: distinguishable with the common colour-vision deficiencies. Colour never carries meaning
# alone: series are named in legends and hovers, changes carry ▲/▼.
BLUE, ORANGE, GREEN, VERMILLION, SKY, PURPLE, YELLOW, BLACK = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000",
)  # fmt: skip
PALETTE = (BLUE, ORANGE, GREEN, VERMILLION, SKY, PURPLE, "#8C6D31", "#4D4D4D", YELLOW, "#6A3D9A", "#B2DF8A", BLACK)
OTHER_COLOUR = "#BBBBBB"
MUTED = "#64748B"
# What each kind of thing is drawn in, on every tab and in the report.
AGENT_COLOUR, TEAM_COLOUR, MODEL_COLOUR, USERS_COLOUR, COST_COLOUR = BLUE, PURPLE, SKY, ORANGE, GREEN
FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12}
# Plotly's config for every chart, on the tabs and in the HTML report: no mode bar (its "Share chart…"
# would upload the organization's data to Plotly's cloud), and no address of that cloud to send to.
PLOTLY_CONFIG = {"displayModeBar": False, "displaylogo": False, "showSendToCloud": False, "plotlyServerURL": ""}


def count_ticks(largest: float) -> dict:
    """Ticks for counts: no 0.5 for small counts, 20k rather than 20,000 for big ones."""
    if largest <= 6:
        return {"tickformat": ",d", "dtick": 1}
    if largest <= 10:
        return {"tickformat": ",d", "dtick": 2}
    return {"tickformat": "~s"} if largest >= 10_000 else {"tickformat": ",d"}
