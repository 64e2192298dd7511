"""Adoption tab: the funnel, active people and stickiness, cohorts, the team league table and the seats to
reclaim (docs/metrics.md). A tab of its own, so the Users tab's one callback does not wait for these questions."""

from __future__ import annotations

from dash import dcc, html

from layouts import ids
from layouts._adoption import adoption_section


def layout(**query: str) -> html.Div:
    return html.Div(
        [
            html.H1("Adoption", className="visually-hidden"),  # the tab pills name it for the eye
            dcc.Store(id=ids.ADOPTION_QUERY, data=query),
            dcc.Store(id=ids.ADOPTION_NEW_SEARCH),
            adoption_section(query),
        ]
    )
