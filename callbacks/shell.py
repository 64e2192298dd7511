"""The frame: tab links keep the period, and the header says who is signed in."""

from __future__ import annotations

import dash
from dash import Input, Output

from auth.session import current_account
from layouts import ids
from layouts.shell import TABS


def update_nav_links(search: str | None) -> list[str]:
    """Carry the query string (the period and filters) across tabs."""
    suffix = search or ""
    return [f"{path}{suffix}" for _slug, _label, path in TABS]


def update_user_label(_pathname: str | None) -> str:
    account = current_account()
    return f"{account.email} · {account.role.capitalize()}"


def register_callbacks(app: dash.Dash) -> None:
    app.callback(
        [Output(ids.NAV_LINKS[slug], "href") for slug, _label, _path in TABS],
        Input(ids.SHELL_LOCATION, "search"),
    )(update_nav_links)
    app.callback(Output(ids.SHELL_USER, "children"), Input(ids.SHELL_LOCATION, "pathname"))(update_user_label)
