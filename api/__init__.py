"""The JSON API (read-only), under the same gate and scope as the pages."""

from __future__ import annotations

from flask import Flask

from api import otlp
from api.v1 import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    otlp.init_app(app)
