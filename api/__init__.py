"""The JSON API (read-only), under the same gate and scope as the pages."""

from __future__ import annotations

from flask import Flask

from api import adoption, otlp
from api.v1 import bp

ROUTES = (adoption,)  # modules that add their routes to the blueprint when imported


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    otlp.init_app(app)
