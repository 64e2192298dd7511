"""Which address a request comes from: believe a proxy's headers only when told to, and say so when
they arrive untrusted."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

# WSGI environ keys of the headers a reverse proxy adds to name the client.
FORWARDED_HEADERS = {
    "HTTP_X_FORWARDED_FOR": "X-Forwarded-For",
    "HTTP_FORWARDED": "Forwarded",
    "HTTP_X_REAL_IP": "X-Real-IP",
}
UNTRUSTED_PROXY_WARNING = (
    "A request from %s carries %s, but TELEMETRY_TRUSTED_PROXIES is 0, so the header is ignored. "
    "Behind a reverse proxy every visitor then has the proxy's address: the login throttle would lock "
    "out everyone at once and the audit log names the proxy. Set TELEMETRY_TRUSTED_PROXIES to the "
    "number of proxies in front; with no proxy, a client sent the header and nothing needs doing. "
    "(Logged once per process.)"
)


class ForwardedHeaderWatch:
    """WSGI middleware for when no proxy is trusted: logs a warning the first time a request carries
    a proxy's forwarding header, then only passes requests on."""

    def __init__(self, wsgi_app: Any, logger: logging.Logger) -> None:
        self.wsgi_app = wsgi_app
        self.logger = logger
        self._warned = False
        self._lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Any) -> Iterable[bytes]:
        if not self._warned:
            self._check(environ)
        return self.wsgi_app(environ, start_response)

    def _check(self, environ: dict) -> None:
        found = [name for key, name in FORWARDED_HEADERS.items() if key in environ]
        if not found:
            return
        with self._lock:
            if self._warned:
                return
            self._warned = True
        # The header's value is the sender's to choose: only its name and the socket's address are logged.
        self.logger.warning(UNTRUSTED_PROXY_WARNING, environ.get("REMOTE_ADDR", "?"), ", ".join(found))


def init_app(app: Flask) -> None:
    if app.config["TRUSTED_PROXIES"]:
        # Only behind proxies we were told about is X-Forwarded-For believed.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"], x_proto=1, x_host=1)
    else:
        app.wsgi_app = ForwardedHeaderWatch(app.wsgi_app, app.logger)
