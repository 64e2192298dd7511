"""The adoption metrics as report data points (reports/tables.py) from the report command, on the tiny org (UTC).

Max's teams (Engineering, Sales), 2-8 March 2026: Ada, Max, Mia, Ivy and Sam with access; Max, Mia and Sam
active (Mia 2 and 8 March, Max 3 March, Sam 3 March); Mia's 25 February the only other day in 28.
"""

from __future__ import annotations

import zipfile

from tests.test_reports import csv_rows, exports, report_args

POINTS = "adoption,adoption_by_team,active_people,cohorts,seats_to_reclaim"


def test_every_adoption_metric_is_a_data_point_of_the_report_command(app, runner, tmp_path):
    out = tmp_path / "adoption.zip"
    result = runner.invoke(args=report_args(out, "--as", "manager@test.example", points=POINTS, fmt="csv"))
    assert result.exit_code == 0, result.output
    archive = zipfile.ZipFile(out)
    assert sorted(archive.namelist()) == [
        "01-adoption.csv", "02-adoption-by-team.csv", "03-active-people.csv", "04-cohorts.csv",
        "05-seats-to-reclaim.csv",
    ]  # fmt: skip
    header, row = csv_rows(archive.read("01-adoption.csv"))
    values = dict(zip(header, row, strict=True))
    assert [values[k] for k in ("Scope", "With access", "Tried", "Active", "Habitual", "Power")] == [
        "Organization", "5", "3", "3", "0", "0",
    ]  # fmt: skip
    # DAU 1 2 0 0 0 0 1, MAU 1 3 3 3 3 3 3: 4 / 19; cost 1.723334 for 3 people, 5 interactions
    assert values["Stickiness"] == str(4 / 19)
    assert values["Cost per active person (USD)"] == "0.574445"
    assert values["Cost per interaction (USD)"] == "0.344667"
    teams = csv_rows(archive.read("02-adoption-by-team.csv"))
    assert [(r[0], r[1], r[3]) for r in teams[1:]] == [("Engineering", "4", "2"), ("Sales", "1", "1")]
    days = csv_rows(archive.read("03-active-people.csv"))
    assert [r[1] for r in days[1:]] == ["1", "2", "0", "0", "0", "0", "1"]
    cohorts = csv_rows(archive.read("04-cohorts.csv"))
    assert cohorts[1:] == [["2026-03-01", "2", "0", "2", "1.0"]]  # Max and Sam; Mia's first was February
    seats = csv_rows(archive.read("05-seats-to-reclaim.csv"))
    assert sorted(r[0] for r in seats[1:]) == ["Ada Admin", "Ivy Idle", "Max Manager", "Mia Member", "Sam Sales"]
    assert exports(app)[0]["detail"]["points"] == POINTS  # audited as every export is


def test_agent_adoption_uptake_cohorts_and_model_costs_are_data_points(app, runner, tmp_path):
    """Max's teams, 2-8 March (UTC): Mia and Sam used Code Helper, Max Drafting (3 March, his first)."""
    out = tmp_path / "agents.zip"
    points = "agent_adoption,cost_per_model,agent_uptake,agent_cohorts,adoption_by_agent"
    result = runner.invoke(args=report_args(out, "--as", "manager@test.example", points=points, fmt="csv"))
    assert result.exit_code == 0, result.output
    archive = zipfile.ZipFile(out)
    agents = csv_rows(archive.read("01-agent-adoption.csv"))
    assert agents == [["Agent", "Active people", "Share of active people"], ["Code Helper", "2", str(2 / 3)],
                      ["Drafting", "1", str(1 / 3)]]  # fmt: skip
    header, row = csv_rows(archive.read("02-cost-per-model.csv"))
    values = dict(zip(header, row, strict=True))
    # 1.723334 USD (e1 e2 e3 e4 e6), 5 interactions, 3 people; the week before Mia's 0.05 alone
    assert [values[k] for k in ("Model", "Interactions", "Cost (USD)", "Cost per interaction (USD)",
                                "Cost per active person, its part (USD)")] == [
        "claude-sonnet-4.5", "5", "1.723334", "0.344667", "0.574445"]  # fmt: skip
    assert values["Cost per interaction, previous period (USD)"] == "0.050000"
    uptake = csv_rows(archive.read("03-agent-uptake.csv"))
    assert uptake[0] == ["Agent", "First used", "Day", "Days since the first", "First used that day",
                         "People who have used it"]  # fmt: skip
    drafting = [r for r in uptake[1:] if r[0] == "Drafting"]  # Max's 3 March, up to 8 March
    assert [(r[2], r[5]) for r in drafting] == [(f"2026-03-0{d}", "1") for d in range(3, 9)]
    cohorts = csv_rows(archive.read("04-agent-cohorts.csv"))
    assert cohorts[1:] == [["Drafting", "2026-03-01", "1", "0", "1", "1.0"], ["Code Helper", "2026-03-01", "1", "0",
                           "1", "1.0"]]  # fmt: skip
    by_agent = csv_rows(archive.read("05-adoption-by-agent.csv"))
    assert by_agent[0][-1] == "Share of active people" and by_agent[1][-1] == str(2 / 3)
