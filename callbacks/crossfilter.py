"""Analytics tab's cross-filter: chips, clicks and the page's own controls, all through the URL.

Clicking an agent or a team in a chart (or Enter on its row) writes it into the URL (`agents=` /
`teams=`), which every tab reads, so the whole tab follows; the chips above the charts take it out again.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, ctx, html, no_update

from callbacks._common import org_timezone, page_filters
from callbacks._url import keep_in_url
from layouts import ids
from queries import analytics
from queries.filters import asked_period, default_grain, default_period, parse_ids, query_from_search, search_with
from queries.period import GRAINS, PeriodError

FILTER_KINDS = {"agents": "Agent", "teams": "Team"}


def chip(key: str, value: str, label: str) -> dbc.Button:
    kind = FILTER_KINDS[key]
    return dbc.Button(
        [f"{kind}: ", html.Strong(label), html.Span(" ×", className="ms-1", **{"aria-hidden": "true"})],
        id={"type": ids.ANALYTICS_CHIP, "key": key, "value": value},
        color="primary",
        outline=True,
        size="sm",
        className="rounded-pill",
        title=f"Clear the {kind.lower()} filter",
    )


def update_chips(query: dict | None) -> list:
    """One chip per team and agent the tab is filtered to, named as the viewer may see them."""
    try:
        filters = page_filters(query)
    except PeriodError:
        return []
    if not filters.teams and not filters.agents:
        return [html.Span("Tip: click an agent or a team in a chart or a table (or press Enter on its name) to filter "
                          "this tab to it.",
                          className="text-muted small")]  # fmt: skip
    labels = analytics.filter_labels(filters.scope)
    names = {(row["kind"], row["key"]): row["label"] for row in labels.iter_rows(named=True)}
    chips = [chip("teams", team, names.get(("team", team), team)) for team in filters.teams]
    chips += [chip("agents", agent, names.get(("agent", agent), agent)) for agent in filters.agents]
    return [html.Span("Filtered to", className="text-muted small me-1"), *chips]


def clear_filter(search: str | None, key: str, value: str) -> str:
    """The query string without one team or agent id."""
    if key not in FILTER_KINDS:
        raise ValueError(f"Unknown filter {key!r}.")
    remaining = [item for item in parse_ids(query_from_search(search).get(key)) if item != value]
    return search_with(search, **{key: remaining or None})


def _write(search: str | None, **updates: str | list[str] | None):
    """The URL with `updates`; no_update when nothing changes or the browser sent a malformed URL."""
    try:
        new_search = search_with(search, **updates)
    except PeriodError:
        return no_update
    return no_update if new_search == (search or "") else new_search


def _clicked_key(click: dict | None) -> str | None:
    points = click.get("points") if isinstance(click, dict) else None
    point = points[0] if isinstance(points, list) and points else None
    data = point.get("customdata") if isinstance(point, dict) else None
    key = data[0] if isinstance(data, list) and data else None
    return key if isinstance(key, str) and key else None


def update_search_from_agent_click(click: dict | None, search: str | None):
    key = _clicked_key(click)
    return _write(search, agents=key) if key else no_update


def update_search_from_team_click(click: dict | None, search: str | None):
    key = _clicked_key(click)
    return _write(search, teams=key) if key else no_update


def _entered_key(event: dict | None) -> str | None:
    data = event.get("data") if isinstance(event, dict) else None
    key = data.get("key") if isinstance(data, dict) else None
    return key if isinstance(key, str) and key else None


def update_search_from_agent_row(event: dict | None, search: str | None):
    key = _entered_key(event)
    return _write(search, agents=key) if key else no_update


def update_search_from_team_row(event: dict | None, search: str | None):
    key = _entered_key(event)
    return _write(search, teams=key) if key else no_update


def update_search_from_time_click(click: dict | None, search: str | None):
    """A series of the stacked chart is an agent or a team, as the chart is stacked; Other is not one."""
    key = _clicked_key(click)
    if not key or key == analytics.OTHER_KEY:
        return no_update
    try:
        target = "teams" if query_from_search(search).get("stack") == "team" else "agents"
    except PeriodError:
        return no_update
    return _write(search, **{target: key})


def update_search_from_chip(n_clicks: list[int | None], search: str | None):
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not isinstance(n_clicks, list) or not any(n_clicks):
        return no_update
    key, value = trigger.get("key"), trigger.get("value")
    if key not in FILTER_KINDS or not isinstance(value, str):
        return no_update  # not a chip this page made
    try:
        new_search = clear_filter(search, key, value)
    except PeriodError:  # a malformed URL or ids from the browser
        return no_update
    return no_update if new_search == (search or "") else new_search


def update_search_from_grain(grain: str | None, search: str | None):
    """The grain goes into the URL only when it differs from the period's default (no history noise)."""
    if grain is not None and grain not in GRAINS:
        return no_update
    try:
        tz = org_timezone()
        default = default_grain(asked_period(query_from_search(search), tz, default_period(tz)))
    except PeriodError:
        default = None
    return _write(search, grain=None if grain == default else grain)


def update_search_from_stack(stack: str | None, search: str | None):
    if stack is not None and stack not in analytics.STACK_KEYS:
        return no_update
    return _write(search, stack=None if stack == ids.ANALYTICS_DEFAULT_STACK else stack)


def register_crossfilter(app: dash.Dash) -> None:
    """The clicks, chips and controls that write the tab's URL."""
    writers = (
        (update_search_from_agent_click, Input(ids.ANALYTICS_AGENT_CHART, "clickData")),
        (update_search_from_team_click, Input(ids.ANALYTICS_TEAM_CHART, "clickData")),
        (update_search_from_time_click, Input(ids.ANALYTICS_OVER_TIME, "clickData")),
        (update_search_from_agent_row, Input(ids.ANALYTICS_AGENT_ENTER, "data")),
        (update_search_from_team_row, Input(ids.ANALYTICS_TEAM_ENTER, "data")),
        (update_search_from_chip, Input({"type": ids.ANALYTICS_CHIP, "key": ALL, "value": ALL}, "n_clicks")),
        (update_search_from_grain, Input(ids.ANALYTICS_GRAIN, "value")),
        (update_search_from_stack, Input(ids.ANALYTICS_STACK, "value")),
    )
    keep_in_url(app, ids.ANALYTICS_NEW_SEARCH, writers)
