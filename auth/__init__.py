"""Access control: who may see Telemetry, and which teams. Enforced once, over the whole server."""

from __future__ import annotations

import dash
from flask import Flask, Response

from auth import cli, gate, oidc, proxies, session, views
from auth.store import Store


def init_app(app: Flask) -> None:
    app.extensions["telemetry_store"] = Store(app.config["ACCOUNTS_DB"])
    proxies.init_app(app)
    session.init_app(app)
    oidc.init_app(app)
    gate.init_app(app)
    app.register_blueprint(views.bp)
    cli.init_app(app)


def init_dash(app: Flask, dash_app: dash.Dash) -> None:
    """A CSP allowing exactly Dash's inline scripts; Dash adds some at its first request."""

    def headers(response: Response) -> Response:
        policy = gate.content_security_policy(list(dash_app.csp_hashes()), oidc.form_targets())
        return gate.security_headers(response, policy)

    app.after_request(headers)
