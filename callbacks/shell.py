"""The frame: the filter bar and the URL kept in step, tab links that keep the filters, who is in."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import dash
import dash_bootstrap_components as dbc
from dash import ClientsideFunction, Input, Output, State, ctx, html, no_update
from dash._pages import _parse_query_string, _path_to_page  # Dash's own routing: the page as its callback finds it
from flask import current_app, has_request_context, request
from werkzeug.exceptions import HTTPException

import queries
from auth.scope import current_scope
from auth.session import current_account
from callbacks._common import org_timezone
from layouts import ids
from layouts._components import message
from layouts.shell import TABS, shell
from queries import directory, usage
from queries.filters import (
    DEFAULT_PRESET,
    default_period,
    parse_filters,
    parse_ids,
    parse_period,
    query_from_search,
    search_with,
)
from queries.period import PRESETS, PeriodError, matching_preset, preset_period, today_local

BILLING_PATH = "/telemetry/billing"
# Dash's page container's (dash.page_container); its page callback answers the page and its title into the store
PAGE_CONTENT, PAGE_LOCATION, PAGE_STORE = "_pages_content", "_pages_location", "_pages_store"
# The frame's one server callback: the filter bar, the URL, who is in and the data notice.
SHELL_OUTPUTS = (
    Output(ids.SHELL_LOCATION, "search"),
    Output(ids.FILTER_PRESET, "value"),
    Output(ids.FILTER_RANGE, "start_date"),
    Output(ids.FILTER_RANGE, "end_date"),
    Output(ids.FILTER_TEAMS, "value"),
    Output(ids.FILTER_AGENTS, "value"),
    Output(ids.FILTER_MESSAGE, "children"),
    Output(ids.FILTER_TEAMS, "options"),
    Output(ids.FILTER_AGENTS, "options"),
    Output(ids.FILTER_PERIOD, "className"),
    Output(ids.SHELL_USER, "children"),
    Output(ids.SHELL_SCOPE, "children"),
    Output(ids.SHELL_NOTICE, "children"),
)


def update_user_label(_pathname: str | None) -> tuple[str, str]:
    account = current_account()
    scope = current_scope()
    if scope.is_organization:
        label = "Whole organization"
    else:
        names = directory.teams_in_scope(scope)["name"].to_list()
        label = "Your teams: " + (", ".join(names) if names else "none yet")
    return f"{account.email} · {account.role.capitalize()}", label


def update_data_notice(_pathname: str | None) -> dbc.Alert | None:
    """A banner while the tabs read raw events because the rollups do not answer (and why); the query
    layer logs it too."""
    notice = queries.data_notice()
    return None if notice is None else dbc.Alert(notice, color="warning", className="my-2 small")


def update_filter_options(_pathname: str | None) -> tuple[list[dict], list[dict]]:
    """Only the teams the viewer may see; the server decides, never the browser."""
    teams = directory.teams_in_scope(current_scope())
    agents = directory.agents()
    return (
        [{"label": row["name"], "value": row["team_id"]} for row in teams.iter_rows(named=True)],
        [{"label": row["name"], "value": row["agent_id"]} for row in agents.iter_rows(named=True)],
    )


def link_filters(teams: list[str], agents: list[str]) -> tuple[list[dict], list[dict], dbc.Alert | None]:
    """The dropdowns' options, with any id the URL asks for that the viewer cannot see, and a note naming those.

    They go out with the dropdowns' values in one response: a dropdown drops a value it has no option for
    and that change is written back into the URL, which lost a shared link's filters whenever the options
    arrived after the values. An id the viewer cannot see (another manager's team, an unknown agent) stays
    selected, marked and explained, never silently dropped; it matches no data (`Scope.narrow`). A team
    outside a manager's teams is treated as one that does not exist, as `directory.unknown_ids` does.
    """
    team_options, agent_options = update_filter_options(None)
    missing_teams = _missing(teams, team_options)
    missing_agents = _missing(agents, agent_options)
    team_options += [{"label": f"{team} (not available)", "value": team} for team in missing_teams]
    agent_options += [{"label": f"{agent} (not available)", "value": agent} for agent in missing_agents]
    problems = []
    if missing_teams:
        problems.append(f"{_ids_text('team', missing_teams)} not among the teams you can see")
    if missing_agents:
        problems.append(f"{_ids_text('agent', missing_agents)} not in the directory")
    if not problems:
        return team_options, agent_options, None
    text = (
        f"Not every filter in this link can apply: {'; '.join(problems)}. "
        "It matches no data here; remove it from the filter above."
    )
    return team_options, agent_options, message(text, "warning")


def _missing(asked: list[str], options: list[dict]) -> list[str]:
    known = {option["value"] for option in options}
    return [item for item in asked if item not in known]


def _ids_text(kind: str, missing: list[str]) -> str:
    shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
    return f"{kind} {shown} is" if len(missing) == 1 else f"{kind}s {shown} are"


def update_frame(pathname: str | None) -> tuple:
    """Who is in and the data notice: one request when a tab opens, not two (the filter bar's choices go
    with its values: `link_filters`)."""
    return (*update_user_label(pathname), update_data_notice(pathname))


def _first_day() -> dt.date | None:
    return usage.data_bounds(current_scope(), org_timezone())["first_day"][0]


def controls_from_search(search: str | None, today: dt.date, tz: str, pathname: str | None = None) -> tuple:
    """The filter bar as the URL says (first load, a shared link, the back button, another tab)."""
    # The Billing tab's own default is the current billing period; show the same dates here.
    on_billing = pathname == BILLING_PATH
    anchor = current_app.config["BILLING_ANCHOR_DAY"] if on_billing else None
    try:
        query = query_from_search(search)
        filters = parse_filters(query, current_scope(), tz, default=default_period(tz, today, anchor))
    except PeriodError as error:
        note = message(f"{error} Pick a period above.", "danger")
        return no_update, "custom", None, None, no_update, no_update, note
    explicit = on_billing or bool(query.get("start") or query.get("end"))
    preset = matching_preset(filters.period, today, _first_day()) if explicit else DEFAULT_PRESET
    return (
        no_update,
        preset,
        filters.period.start.isoformat(),
        filters.period.end.isoformat(),
        list(filters.teams),
        list(filters.agents),
        None,
    )


def search_from_controls(
    trigger: str,
    search: str | None,
    controls: tuple[str, str | None, str | None, list | None, list | None],
    today: dt.date,
    tz: str,
) -> tuple:
    """The URL as the filter bar says, after the user changed one of its controls.

    The controls' values come from the browser: anything malformed gives a message, never a new URL.
    """
    preset, start, end, teams, agents = controls
    try:
        if trigger == ids.FILTER_PRESET and preset != "custom":
            period = preset_period(preset, today, tz, _first_day())
        elif start and end:
            period = parse_period(_picked_date(start), _picked_date(end), tz)
            preset = matching_preset(period, today, _first_day()) if trigger == ids.FILTER_RANGE else preset
        else:
            return (no_update,) * 6 + (None,)
        new_search = search_with(
            search,
            start=period.start.isoformat(),
            end=period.end.isoformat(),
            teams=list(parse_ids(teams, "teams")) or None,
            agents=list(parse_ids(agents, "agents")) or None,
        )
    except PeriodError as error:
        return (no_update,) * 6 + (message(str(error), "danger"),)
    return (
        new_search if new_search != (search or "") else no_update,
        preset if isinstance(preset, str) and preset in PRESETS else "custom",
        period.start.isoformat(),
        period.end.isoformat(),
        no_update,
        no_update,
        None,
    )


def _picked_date(value: object) -> object:
    """A date picker's value, `YYYY-MM-DD` possibly followed by a time, as the date's text."""
    return value[:10] if isinstance(value, str) else value


def shell_from_url(search: str | None, pathname: str | None) -> tuple:
    """The frame as the URL says (first load, a shared link, the back button, another tab): the filter bar with
    its choices and the period preset's visibility, who is in and the data notice; `SHELL_OUTPUTS`' values."""
    tz = org_timezone()
    controls = controls_from_search(search, today_local(tz), tz, pathname)
    if controls[4] is no_update:  # a malformed URL: the controls stay as they are, and their options
        bar = (*controls, no_update, no_update, period_preset_class(pathname))
    else:
        team_options, agent_options, note = link_filters(controls[4], controls[5])
        bar = (*controls[:-1], controls[-1] or note, team_options, agent_options, period_preset_class(pathname))
    return (*bar, *update_frame(pathname))


def update_shell(search, pathname, preset, start, end, teams, agents) -> tuple:
    """The frame from the URL when the URL changed (`shell_from_url`: one request when a tab opens, not two), or the
    URL from the filter bar after the user changed one of its controls."""
    trigger = ctx.triggered_id
    if trigger in (None, ids.SHELL_LOCATION):
        return shell_from_url(search, pathname)
    tz = org_timezone()
    controls = search_from_controls(trigger, search, (preset, start, end, teams, agents), today_local(tz), tz)
    return (*controls, *(no_update,) * (len(SHELL_OUTPUTS) - len(controls)))


def first_layout() -> html.Div:
    """The frame Dash sends a page that starts (`_dash-layout`): with the page its address asks for in place, and
    the frame as that address says (`shell_from_url`), so that the page is drawn whole at once.

    Otherwise the page is drawn empty, its two locations then take the address from the browser, and that fires
    the frame's callback and Dash's page callback: a round trip, and the page drawn a second time, before anything
    shows. With their pathname and search already the browser's, the locations change nothing when they mount and
    neither fires. The address is the request's Referer (the page's own URL: Dash asks for the layout from the
    page; the app's Referrer-Policy is same-origin); without one, or for an address that is no page, the frame
    goes out empty and is filled as before, as it is when filling it fails: the page's callbacks then show their
    error in the frame, where a failed layout answer would leave the browser nothing but Dash's "Error loading
    layout"."""
    address = _starting_address()
    page = None if address is None else _path_to_page(address[0].strip("/"))[0]
    if not page:
        return shell()
    try:
        return _filled_frame(shell(), page, *address)
    except HTTPException:  # the gate's answers (refused, signed out) stay what they are
        raise
    except Exception:  # noqa: BLE001 - any other failure: the empty frame, whose callbacks say what failed
        current_app.logger.exception("The layout of %s could not be made; the frame goes out empty", address[0])
        return shell()


def _filled_frame(frame: html.Div, page: dict, pathname: str, search: str) -> html.Div:
    """The frame with the page at `pathname` in place and the filter bar as `search` says."""
    parts = {getattr(part, "id", None): part for part in frame._traverse()}  # one walk, not one a lookup
    for location in (ids.SHELL_LOCATION, PAGE_LOCATION):
        parts[location].pathname, parts[location].search = pathname, search
    for slug, _label, path in TABS:  # as assets/shell.js `navLinks` writes them
        parts[ids.NAV_LINKS[slug]].href = path + search
    for output, value in zip(SHELL_OUTPUTS, shell_from_url(search, pathname), strict=True):
        if value is not no_update:
            setattr(parts[output.component_id], output.component_property, value)
    layout, title = page["layout"], page["title"]
    parts[PAGE_CONTENT].children = layout(**_parse_query_string(search)) if callable(layout) else layout
    parts[PAGE_STORE].data = {"title": title() if callable(title) else title}  # as Dash's page callback answers
    return frame


def _starting_address() -> tuple[str, str] | None:
    """The pathname and search (as `window.location` has them) of the page asking for its layout, if known."""
    if not has_request_context() or not request.path.endswith("/_dash-layout") or not request.referrer:
        return None
    url = urlsplit(request.referrer)
    return url.path, f"?{url.query}" if url.query else ""


def period_preset_class(pathname: str | None) -> str:
    """The Billing tab names its period in its own selector (billing periods), so the bar's preset is hidden
    there: one period control per page."""
    return "d-none" if pathname == BILLING_PATH else ""


def register_callbacks(app: dash.Dash) -> None:
    # Carry the query string (the period and filters) across tabs: in the browser (assets/shell.js).
    app.clientside_callback(
        ClientsideFunction("telemetry", "navLinks"),
        [Output(ids.NAV_LINKS[slug], "href") for slug, _label, _path in TABS],
        Input(ids.SHELL_LOCATION, "search"),
        [State(ids.NAV_LINKS[slug], "href") for slug, _label, _path in TABS],
        prevent_initial_call=True,  # as for the frame's callback below
    )
    app.callback(
        *SHELL_OUTPUTS,
        Input(ids.SHELL_LOCATION, "search"),
        Input(ids.SHELL_LOCATION, "pathname"),
        Input(ids.FILTER_PRESET, "value"),
        Input(ids.FILTER_RANGE, "start_date"),
        Input(ids.FILTER_RANGE, "end_date"),
        Input(ids.FILTER_TEAMS, "value"),
        Input(ids.FILTER_AGENTS, "value"),
        prevent_initial_call=True,  # the frame comes filled (`first_layout`), or its location fires as it mounts
    )(update_shell)
    app.clientside_callback(  # "Copy link", in the browser alone (assets/copy_link.js)
        ClientsideFunction("telemetry", "copyLink"),
        Output(ids.FILTER_COPY_LINK, "children"),
        Input(ids.FILTER_COPY_LINK, "n_clicks"),
        Input(ids.SHELL_LOCATION, "pathname"),
        Input(ids.SHELL_LOCATION, "search"),
        prevent_initial_call=True,
    )
