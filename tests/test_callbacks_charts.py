"""A chart card's "Download data (CSV)": what the card draws, in the viewer's scope, formula-safe, audited."""

from __future__ import annotations

import csv
import io
import json

import pytest
from dash import no_update

from callbacks import charts
from layouts import ids
from reports.tables import INT
from tests import dash_payloads as dp
from tests.conftest import AuthActions, read_only_app
from tests.test_access import dependencies
from tests.test_reports import rename_team

WEEK = {"start": "2026-03-02", "end": "2026-03-08"}
WEEK_SEARCH = "?start=2026-03-02&end=2026-03-08"

app = pytest.fixture(read_only_app, name="app")  # one app for the module: its tests only read


def rows(download: dict) -> list[list[str]]:
    return list(csv.reader(io.StringIO(download["content"], newline="")))


def last_audit(app) -> dict:
    return app.extensions["telemetry_store"].audit_entries(1)[0]


def test_top_teams_as_the_card_draws_them_and_audited(app, signed_in):
    with signed_in("admin"):
        download = charts.chart_csv(ids.DASHBOARD_TOP_TEAMS, WEEK)
    assert download["filename"] == "telemetry-dashboard-top-teams-2026-03-02-to-2026-03-08.csv"
    # Engineering: e1, e2 (Code Helper) and two more; Legal's one Drafting call cost $2; money keeps six places.
    assert rows(download) == [
        ["Team", "Interactions", "Active users", "Cost (USD)"],
        ["Engineering", "4", "2", "0.723333"],
        ["Legal", "1", "1", "2.000000"],
        ["Sales", "1", "1", "1.000001"],
    ]
    entry = last_audit(app)
    assert (entry["actor"], entry["action"]) == ("admin@test.example", "export")
    assert entry["detail"] == {"what": "chart:dashboard-top-teams", "format": "csv", "start": "2026-03-02",
                               "end": "2026-03-08", "teams": "", "agents": "", "rows": 3}  # fmt: skip


def test_a_manager_gets_only_their_teams_even_when_asking_for_another(app, signed_in):
    with signed_in("manager"):
        mine = charts.chart_csv(ids.DASHBOARD_TOP_TEAMS, WEEK)
        billing = charts.chart_csv(ids.BILLING_TEAM_CHART, WEEK)
        other = charts.chart_csv(ids.ANALYTICS_TEAM_CHART, {**WEEK, "teams": "t_legal"})
    assert [row[0] for row in rows(mine)[1:]] == ["Engineering", "Sales"]
    assert [row[0] for row in rows(billing)[1:]] == ["Sales", "Engineering"]
    assert "Legal" not in json.dumps(other)  # never widened to a team the manager does not manage
    assert last_audit(app)["actor"] == "manager@test.example"


def test_the_filters_of_the_url_apply(signed_in):
    with signed_in("admin"):
        download = charts.chart_csv(ids.ANALYTICS_AGENT_CHART, {**WEEK, "teams": "t_legal"})
        over_time = charts.chart_csv(ids.ANALYTICS_OVER_TIME, {**WEEK, "grain": "week", "stack": "team"})
    assert rows(download) == [["Agent", "Interactions", "Active users", "Error rate", "Cost (USD)"],
                              ["Drafting", "1", "1", "0.0", "2.000000"]]  # fmt: skip
    # one week, stacked by team: the three teams' interactions in it
    assert sorted(row[1:3] for row in rows(over_time)[1:]) == [["Engineering", "4"], ["Legal", "1"], ["Sales", "1"]]


def test_a_name_that_looks_like_a_formula_stays_text(app, signed_in):
    path, teams = rename_team(app, '=HYPERLINK("https://evil.example")')
    try:
        with signed_in("admin"):
            download = charts.chart_csv(ids.DASHBOARD_TOP_TEAMS, WEEK)
    finally:
        teams.write_parquet(path)
    assert rows(download)[1][0] == '\'=HYPERLINK("https://evil.example")'


@pytest.mark.parametrize("chart", list(charts.CHARTS))
def test_every_chart_card_has_its_data(signed_in, chart):
    with signed_in("admin"):
        download = charts.chart_csv(chart, WEEK)
    table = rows(download)
    assert len(table) > 1 and all(header.strip() for header in table[0])
    counts = {header for header, kind in charts.COLUMNS.values() if kind == INT}
    for row in table[1:]:  # counts are written as whole numbers (not 259402.0), or nothing where there is none
        cells = [cell for head, cell in zip(table[0], row, strict=True) if head in counts]
        assert all(cell.isdigit() or cell == "" for cell in cells), row


def test_the_trends_csv_leaves_the_days_before_the_data_empty_as_the_chart_does(signed_in):
    with signed_in("admin"):
        table = rows(charts.chart_csv(ids.DASHBOARD_TREND, WEEK))
    # 2-8 March against 23 Feb - 1 Mar; the data start on 25 Feb: 23 and 24 Feb have nothing to compare
    assert table[0][3:5] == ["Previous period starting", "Interactions (previous period)"]
    assert [row[3:] for row in table[1:4]] == [["2026-02-23", "", ""], ["2026-02-24", "", ""], ["2026-02-25", "1", "1"]]


def test_what_is_not_a_chart_or_a_period_is_refused(signed_in):
    with signed_in("admin"):
        assert charts.chart_csv("users-grid", WEEK) is None
        assert charts.chart_csv({"not": "an id"}, WEEK) is None
        assert charts.chart_csv(ids.DASHBOARD_TREND, {"start": "2026-03-08", "end": "2026-03-01"}) is None
        assert charts.download_csv(None, WEEK_SEARCH) is no_update


def _download_request(app, chart: str, search: str = WEEK_SEARCH) -> dict:
    """The request dash-renderer sends when the menu's CSV item of `chart` is clicked (assets/charts.js puts the
    chart in the shell's store)."""
    dependency = next(d for d in dependencies(app) if ids.CHART_DOWNLOAD in d["output"])
    asked = {"chart": chart, "at": 1}
    return {
        "output": dependency["output"],
        "outputs": {"id": ids.CHART_DOWNLOAD, "property": "data"},
        "inputs": [{"id": ids.CHART_CSV, "property": "data", "value": asked}],
        "state": [{"id": ids.SHELL_LOCATION, "property": "search", "value": search}],
        "changedPropIds": [f"{ids.CHART_CSV}.data"],
    }


def test_over_http_a_manager_downloads_their_scope_and_a_member_nothing(app, client):
    body = _download_request(app, ids.BILLING_TEAM_CHART)
    AuthActions(client).login("manager")
    response = dp.post(client, body)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Engineering" in text and "Sales" in text and "Legal" not in text
    AuthActions(client).logout()
    AuthActions(client).login("member")
    refused = dp.post(client, body)
    assert refused.status_code == 403 and "Engineering" not in refused.get_data(as_text=True)
