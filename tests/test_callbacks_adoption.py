"""The Adoption tab as plain functions on the tiny org (tests/org.py, UTC), signed in as each role.

2-8 March 2026: Mia u4 active 2 and 8 March (and 25 February), Sam u5 3 March (and 9), Max u2 3 March, Lee u3
4 March; Ada, Ivy and Noa never. The figures' numbers are those of tests/test_api_adoption.py.
"""

from __future__ import annotations

import json

import polars as pl
from dash import no_update

from callbacks import adoption
from callbacks._figures import count_margin, label_margin, money_margin
from data import schema
from tests.figures import as_figure
from tests.test_callbacks_analytics import table_cells

WEEK = {"start": "2026-03-02", "end": "2026-03-08"}


def test_the_funnel_and_the_active_people(signed_in):
    with signed_in("admin"):
        funnel = as_figure(adoption.update_funnel(WEEK))
        text, active = adoption.update_active(WEEK)
    assert list(funnel.data[0].x) == [7, 4, 4, 0, 0]
    assert list(funnel.data[0].y) == ["With access", "Tried", "Active", "Habitual", "Power"]
    assert text == "Stickiness 20.8% (average daily / monthly active people: 0.7 / 3.4)"  # 5 / 24
    daily = next(trace for trace in as_figure(active).data if trace.name == "Daily")
    assert list(daily.y) == [1, 2, 1, 0, 0, 0, 1]


def test_cohorts_and_the_league_table_of_a_manager(signed_in):
    with signed_in("manager"):
        heat = as_figure(adoption.update_cohorts({"start": "2026-02-01", "end": "2026-03-31"})).data[0]
        league = adoption.update_league(WEEK)
    assert list(heat.y) == ["Feb 2026 (1)", "Mar 2026 (2)"]  # Mia; Max and Sam (Lee's team is not Max's)
    assert [list(row) for row in heat.z] == [[1.0, 1.0], [1.0, None]]
    assert table_cells(league, "label", "active_share", "cost_per_active") == [
        ("Sales", "100.0%", "$1.00"),
        ("Engineering", "50.0%", "$0.36"),
    ]


def test_seats_to_reclaim_and_their_export(signed_in, app):
    app.config["SEAT_COST_USD"] = 20
    with signed_in("legal_manager"):
        summary = adoption.update_reclaim(WEEK)
        block = adoption.update_reclaim_rows({"startRow": 0, "endRow": 100}, WEEK)
        by_name_first = {"startRow": 0, "endRow": 1, "sortModel": [{"colId": "name", "sort": "asc"}]}
        by_name = adoption.update_reclaim_rows(by_name_first, WEEK)
        named = {"name": {"filterType": "text", "type": "contains", "filter": "LEGAL"}}
        legal = adoption.update_reclaim_rows({"startRow": 0, "endRow": 100, "filterModel": named}, WEEK)
        assert adoption.update_reclaim_rows(None, WEEK) is no_update
        download = adoption.export_reclaim(1, WEEK)
        assert adoption.export_reclaim(None, WEEK) is no_update
    assert [(row["name"], row["last_active_text"]) for row in block["rowData"]] == [
        ("Noa Never", "never"),
        ("Lee Legal", "4 Mar 2026"),
    ]
    assert block["rowCount"] == 2
    assert ([row["name"] for row in by_name["rowData"]], by_name["rowCount"]) == (["Lee Legal"], 2)
    assert ([row["name"] for row in legal["rowData"]], legal["rowCount"]) == (["Lee Legal"], 1)
    assert summary == "2 seats to reclaim: $40.00 a month"
    assert download["filename"].startswith("telemetry-seats-idle-30-days-")
    lines = download["content"].splitlines()
    assert lines[0].startswith("user_id,name,email,team_id,team,managers,")
    assert [line.split(",")[0] for line in lines[1:]] == ["u6", "u3"]
    store = app.extensions["telemetry_store"]
    entry = store.audit_entries(1)[0]
    assert entry["action"] == "export" and "reclaim:30" in str(entry["detail"])


def test_a_formula_looking_name_is_exported_as_text(signed_in, data_dir):
    path = schema.directory_dir(data_dir) / "users.parquet"
    people = pl.read_parquet(path)
    formula = pl.when(pl.col("user_id") == "u7").then(pl.lit("=HYPERLINK(1)")).otherwise("name")
    people.with_columns(formula.alias("name")).write_parquet(path)
    with signed_in("admin"):
        content = adoption.export_reclaim(1, {**WEEK, "reclaim": "90"})["content"]
    assert "u7,'=HYPERLINK(1)," in content


def test_the_idle_days_are_in_the_url():
    assert adoption.update_reclaim_search(60, "?start=2026-03-02") == "?start=2026-03-02&reclaim=60"
    assert adoption.update_reclaim_search(30, "?start=2026-03-02&reclaim=60") == "?start=2026-03-02"
    assert adoption.update_reclaim_search(45, "?start=2026-03-02") is no_update


def test_the_adoption_tab_answers_in_one_request_in_the_managers_scope(app, client, auth):
    """The tab's one callback reads its own query store; a manager's league table holds only their teams."""
    from tests import dash_payloads as dp
    from tests.test_access import dependencies

    deps = dependencies(app)
    tab = dp.find(deps, r"adoption-league-place\.children")
    assert [dict(item) for item in tab["inputs"]] == [{"id": "adoption-query", "property": "data"}]
    outputs = [(d["output"].strip(".").split("..."), str(d["inputs"])) for d in deps]  # Dash's "..a.b...c.d.."
    assert not any(any(o.startswith("adoption-") for o in ids_) and "users-query" in inputs for ids_, inputs in outputs)
    auth.login("manager")
    response = dp.post(client, dp.payload(tab, {"adoption-query.data": WEEK}))
    assert response.status_code == 200
    league = response.get_json()["response"]["adoption-league-place"]["children"]["props"]["data-table"]
    assert [row["cells"][0][0] for row in json.loads(league)["rows"]] == ["Sales", "Engineering"]


def test_agent_adoption_and_the_cost_per_model(signed_in):
    with signed_in("admin"):
        agents = as_figure(adoption.update_agents(WEEK)).data[0]
        models = adoption.update_models(WEEK)
    # Mia and Sam with Code Helper, Max and Lee with Drafting, of the 4 active people
    assert list(agents.y) == ["Drafting", "Code Helper"] and list(agents.text) == ["50.0% (2)", "50.0% (2)"]
    # e1..e6: 3.723334 USD, 6 interactions, 4 people; the week before e0 alone (0.05 USD, Mia)
    fields = ("label", "cost", "cost_per_interaction", "cost_per_active")
    assert table_cells(models, *fields) == [
        ("claude-sonnet-4.5", "$3.72", "$0.62 (▲ 1,141.1%)", "$0.93 (▲ 1,761.7%)"),  # against 0.05 USD each
    ]
    assert table_cells(models, "cost_per_interaction", "cost_per_active", part=1) == [(0.620556, 0.930834)]
    assert table_cells(models, "cost_per_interaction", "cost_per_active", part=3) == [("text-danger", "text-danger")]
    with signed_in("manager"):  # Engineering and Sales: Mia, Sam and Max
        agents = as_figure(adoption.update_agents(WEEK)).data[0]
    assert list(agents.text) == ["33.3% (1)", "66.7% (2)"]


def test_an_agents_uptake_and_its_first_users(signed_in):
    with signed_in("admin"):
        options, placeholder, since, curve = adoption.update_uptake(WEEK)
        heat = as_figure(adoption.update_agent_cohorts(WEEK)).data[0]
        _options, _placeholder, code_since, code = adoption.update_uptake({**WEEK, "uptake": "a_code"})
    # Drafting is the newest: Max on 3 March, Lee on 4 March; Code Helper since Mia's 25 February
    assert options == [{"label": "Drafting (since 3 Mar 2026)", "value": "a_draft"},
                       {"label": "Code Helper (since 25 Feb 2026)", "value": "a_code"}]  # fmt: skip
    assert placeholder == "Drafting (the newest)"
    assert since == "Drafting: first used in your scope on 3 Mar 2026; 2 people have used it since, up to 8 Mar 2026."
    assert list(as_figure(curve).data[0].y) == [1, 2, 2, 2, 2, 2]
    assert list(heat.y) == ["Mar 2026 (2)"] and [list(row) for row in heat.z] == [[1.0]]
    assert list(as_figure(code).data[0].y) == [1] * 6 + [2] * 6 and code_since.startswith("Code Helper: first used")
    with signed_in("legal_manager"):  # Lee's team: Drafting alone, from Lee's 4 March; Code Helper is not theirs
        options, _placeholder, since, curve = adoption.update_uptake({**WEEK, "uptake": "a_code"})
    assert [o["value"] for o in options] == ["a_draft"] and since.startswith("Drafting: first used in your scope on 4")
    assert list(as_figure(curve).data[0].y) == [1] * 5


def test_a_chosen_agent_goes_into_the_url():
    assert adoption.update_uptake_search("a_code", "?start=2026-03-02") == "?start=2026-03-02&uptake=a_code"
    assert adoption.update_uptake_search(None, "?start=2026-03-02") is no_update


def test_the_charts_margins_already_fit_their_labels():
    """Margins that fit, so Plotly's automargin has nothing to grow and draws a chart once (callbacks/_figures.py).
    "With access": W 12 + i 3.4 + t 4.8 + h 7.7 + space 3.9 + a 7.4 + c 6.5 + c 6.5 + e 7.4 + s 6.5 + s 6.5 =
    72.6 px, and 14 between the labels and the axis; an x axis with a title takes 53 px below."""
    funnel = adoption.funnel_figure({"with_access": 7, "tried": 4, "active": 4, "habitual": 0, "power": 0})
    assert funnel["layout"]["margin"] == {"l": 87, "b": 53}
    assert count_margin(23_000) == 60  # "23k" 7.7 + 7.7 + 7.1 = 22.5 px, and 38 for the axis title
    assert count_margin(1_500) == 73  # "1,500" 4 × 7.7 + 3.9 = 34.7 px, and 38
    assert count_margin(5) == 48  # a digit: the house margin is room enough
    # a long name is given at most 160 px (Plotly never narrows a margin it was given; automargin may widen it)
    assert label_margin(["Quarterly revenue forecasting and reconciliation assistant"]) == 160
    assert label_margin(["Ops"]) == 38  # O 9.5 + p 7.7 + s 6.5 = 23.7 px, and 14


def test_a_dollar_axis_margin_fits_its_widest_label():
    """Plotly draws a dollar axis a few per cent above its largest value; the label there is the widest."""
    assert money_margin(20_000) == 59  # "$21,000": 6 × 7.7 + 3.9 = 50.1 px, and 9 beside an untitled axis
    assert money_margin(1_300) == 51  # "$1,365": 5 × 7.7 + 3.9 = 42.4 px, and 9
    assert money_margin(5) == 48  # "$5.25": the house margin is room enough
