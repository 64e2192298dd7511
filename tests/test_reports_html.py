"""The HTML report's charts: a small plotly.js bundle at the app's plotly.js version, no toolbar, no cloud."""

from __future__ import annotations

import re

from plotly.offline import get_plotlyjs_version

from reports import html
from tests.test_reports import make

MAX_BYTES = 1_500_000  # the basic bundle is 1.19 MB; the full one made the page 4.8 MB


def test_the_report_is_small_and_draws_without_a_toolbar(app):
    page = make(app, "admin", "html").content
    assert len(page) < MAX_BYTES
    text = page.decode()
    assert "plotly.js (basic - minified) v" + html.BASIC_BUNDLE_VERSION in text
    configs = re.findall(r"Plotly\.newPlot\([^;]*?(\{\"displayModeBar\"[^}]*\})", text)
    assert configs and all('"displayModeBar": false' in c and '"showSendToCloud": false' in c for c in configs)


def test_the_vendored_bundle_is_the_installed_plotly_js_version():
    """After a plotly upgrade, refresh reports/vendor/ (reports/html.py says how)."""
    assert get_plotlyjs_version() == html.BASIC_BUNDLE_VERSION
    assert html.plotly_basic_js().startswith("/**\n* plotly.js (basic - minified) v" + get_plotlyjs_version())
