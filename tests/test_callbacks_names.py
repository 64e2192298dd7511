"""Names typed as markup (a team called `<a href=...>Engineering</a>`) are drawn as text in every chart.

The tiny org of tests/org.py with Engineering, Code Helper and the model of Code Helper's events renamed
to markup; every chart that shows a team, agent or model name is checked as the callback returns it.
"""

from __future__ import annotations

import html
from pathlib import Path

import polars as pl
import pytest

from callbacks import analytics, billing, crossfilter, dashboard
from callbacks._figures import DRAWN_TEXT, figure
from data import schema
from tests.figures import as_figure
from tests.org import write_org

TEAM = '<a href="https://evil.example/">Engineering</a>'
AGENT = '<a href="https://evil.example/agent">Code <b>Helper</b></a><br>&amp;'
MODEL = "<span style='font-size:40px'>sonnet</span><a href='https://evil.example/m'>x</a>"
WEEK = {"start": "2026-03-02", "end": "2026-03-08"}


def write_hostile_org(folder: Path) -> None:
    """The tiny org with t_eng, a_code and the model of a_code's events named as markup."""
    write_org(folder)
    directory = schema.directory_dir(folder)
    for file, key, value, name in (("teams.parquet", "team_id", "t_eng", TEAM),
                                   ("agents.parquet", "agent_id", "a_code", AGENT)):  # fmt: skip
        frame = pl.read_parquet(directory / file)
        frame.with_columns(pl.when(pl.col(key) == value).then(pl.lit(name)).otherwise(pl.col("name")).alias("name")
                           ).write_parquet(directory / file)  # fmt: skip
    for part in folder.rglob("part-*.parquet"):
        if directory in part.parents:
            continue
        events = pl.read_parquet(part)
        events.with_columns(pl.when(pl.col("agent_id") == "a_code").then(pl.lit(MODEL)).otherwise(pl.col("model"))
                            .alias("model")).write_parquet(part)  # fmt: skip


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    write_hostile_org(folder)
    return folder


def drawn(fig: dict) -> list[str]:
    """Every string Plotly would draw as markup from the traces (axis categories, legend, bar and hover text)."""
    as_figure(fig)
    found = []
    for trace in fig["data"]:
        for key in DRAWN_TEXT:
            values = trace.get(key)
            for value in values if isinstance(values, list) else [values]:
                found += [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]
    return found


def shown(fig: dict) -> set[str]:
    """The strings as a person reads them: Plotly turns &lt; &gt; &amp; back into < > &."""
    return {html.unescape(text) for text in drawn(fig)}


def assert_text_only(fig: dict, *names: str) -> None:
    assert not [text for text in drawn(fig) if "<" in text or ">" in text], drawn(fig)
    assert set(names) <= shown(fig)


def test_the_figure_builder_escapes_what_plotly_draws_and_keeps_customdata():
    bars = {"type": "bar", "y": [TEAM, "Sales"], "x": [1, 2], "name": AGENT, "text": ["R&D"],
            "customdata": [["t_eng", "<b>kept</b>"]], "hovertemplate": "<b>%{y}</b><extra></extra>"}  # fmt: skip
    trace = figure([bars])["data"][0]
    assert trace["y"] == ['&lt;a href="https://evil.example/"&gt;Engineering&lt;/a&gt;', "Sales"]
    assert trace["text"] == ["R&amp;D"] and html.unescape(trace["name"]) == AGENT
    assert trace["customdata"] == [["t_eng", "<b>kept</b>"]]  # ids for clicks; never drawn as is
    assert trace["hovertemplate"] == "<b>%{y}</b><extra></extra>"  # the code's own markup stays
    assert bars["y"][0] == TEAM  # the caller's trace is not changed


def test_dashboard_top_charts(signed_in):
    with signed_in("admin"):
        assert_text_only(dashboard.update_top_teams(WEEK)[0], TEAM, "Sales", "Legal")
        assert_text_only(dashboard.update_top_agents(WEEK)[0], AGENT, "Drafting")


def test_analytics_charts_and_clicks_map_back_to_ids(signed_in):
    with signed_in("admin"):
        agents, _ = analytics.update_agents(WEEK)
        teams, _ = analytics.update_teams(WEEK)
        by_team = analytics.update_over_time({**WEEK, "stack": "team"})
        by_agent = analytics.update_over_time({**WEEK, "stack": "agent"})
    for fig, name in ((agents, AGENT), (teams, TEAM), (by_team, TEAM), (by_agent, AGENT)):
        assert_text_only(fig, name)
    # A click sends the bar's customdata: the id, not the escaped label.
    team_bar = teams["data"][0]
    index = [html.unescape(y) for y in team_bar["y"]].index(TEAM)
    click = {"points": [{"y": team_bar["y"][index], "customdata": team_bar["customdata"][index]}]}
    assert crossfilter.update_search_from_team_click(click, "?start=2026-03-02") == "?start=2026-03-02&teams=t_eng"
    agent_bar = agents["data"][0]
    index = [html.unescape(y) for y in agent_bar["y"]].index(AGENT)
    click = {"points": [{"customdata": agent_bar["customdata"][index]}]}
    assert crossfilter.update_search_from_agent_click(click, "?start=2026-03-02") == "?start=2026-03-02&agents=a_code"
    series = next(t for t in by_team["data"] if html.unescape(t["name"]) == TEAM)
    click = {"points": [{"customdata": series["customdata"][0]}]}
    assert crossfilter.update_search_from_time_click(click, "?stack=team") == "?stack=team&teams=t_eng"


def test_billing_charts(signed_in):
    with signed_in("admin"):
        assert_text_only(billing.update_teams(WEEK)[0], TEAM)
        assert_text_only(billing.update_agents(WEEK)[0], AGENT)
        assert_text_only(billing.update_models(WEEK), MODEL)
