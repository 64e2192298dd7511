"""The app as bench.py serves it: `gunicorn "benchmarks.bench_server:create()"`, loopback only.

The production app, unchanged, behind a WSGI wrapper that answers a few benchmark-only paths under
/__bench__/ before the app sees the request (so never in production, where this module is not used):

- POST /__bench__/cold: forget kept answers and callback outputs (one cache)
  (a cold start; the rollups stay, as on a running server);
- POST /__bench__/raw: nothing kept, each question over the raw events (tests/oracle/: the baseline);
- POST /__bench__/ours: back to rollups and caches.

Run with one worker, so that what a path does reaches the process that answers the tabs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

PREFIX = "/__bench__/"


def create() -> Callable:
    from app import create_app

    app = create_app()
    inner = app.wsgi_app
    kept = {}

    def control(action: str) -> None:
        from queries import cache
        from tests.oracle import answer_from_events  # the raw baseline: each question over the events

        results = cache.result_cache()
        with app.app_context():
            if action == "cold":
                results.clear()
            elif action == "raw":
                kept.setdefault("max_bytes", results.max_bytes)
                results.max_bytes = 0
                answer_from_events(True)
            elif action == "ours":
                results.max_bytes = kept.pop("max_bytes", results.max_bytes)
                answer_from_events(False)
            else:
                raise KeyError(action)

    def wsgi(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX) or environ.get("REMOTE_ADDR") != "127.0.0.1":
            return inner(environ, start_response)
        try:
            control(path[len(PREFIX):])
        except KeyError:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"unknown\n"]
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"done\n"]

    app.wsgi_app = wsgi
    return app
