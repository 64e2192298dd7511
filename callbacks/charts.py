"""Every chart card's menu: the chart as a PNG, drawn in the browser, and its data as CSV, from the server.

The PNG never leaves the browser (Plotly draws it from the chart on the page: assets/charts.js). The CSV
holds what the card draws, worked out as its callback does: the URL's filters in the viewer's scope
(decided here, on the server, as for every callback), the same question and the same cut (top 5, top 10,
"Other"). It is written as the report's CSV files are (`reports.csv_zip.table_csv`: exact money,
formula-looking names made plain text) and every download is in the audit log, as every export is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import dash
import polars as pl
from dash import Input, Output, State, dcc, no_update

from auth.session import audit
from callbacks import adoption as adoption_tab
from callbacks import analytics as analytics_tab
from callbacks import billing as billing_tab
from callbacks import dashboard as dashboard_tab
from callbacks._common import org_timezone, page_filters
from layouts import ids
from queries import adoption, analytics, billing, usage, users
from queries.filters import Filters, query_from_search
from queries.money import to_cents
from queries.period import PeriodError, today_local
from reports.csv_zip import table_csv
from reports.tables import DATE, INT, PERCENT, TEXT, USD, Table

Rows = Callable[[dict], tuple[Filters, pl.DataFrame]]
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Column headers and kinds of every chart's CSV (a column's kind says how the report writers show it).
COLUMNS: dict[str, tuple[str, str]] = {
    "agent": ("Agent", TEXT), "team": ("Team", TEXT), "model": ("Model", TEXT), "series": ("Series", TEXT),
    "period_start": ("Period starting", DATE), "day": ("Day", DATE), "weekday": ("Weekday", TEXT),
    "hour": ("Hour", INT), "band": ("Interactions per user", TEXT),
    "interactions": ("Interactions", INT), "active_users": ("Active users", INT), "members": ("Members", INT),
    "users": ("Active users", INT), "adoption": ("Adoption", PERCENT), "share": ("Share of interactions", PERCENT),
    "error_rate": ("Error rate", PERCENT), "cost_usd": ("Cost (USD)", USD),
    "projected_cost_usd": ("Projected cost (USD)", USD), "cost_share": ("Share of total", PERCENT),
    "previous_period_start": ("Previous period starting", DATE),
    "previous_interactions": ("Interactions (previous period)", INT),
    "previous_active_users": ("Active users (previous period)", INT),
    "users_with_access": ("People with access", INT), "adopted_users": ("Adopted", INT),
    "stage": ("Stage", TEXT), "people": ("People", INT), "rate": ("Share of those with access", PERCENT),
    "dau": ("Daily active", INT), "wau": ("Weekly active (7 days)", INT), "mau": ("Monthly active (28 days)", INT),
    "cohort_month": ("First active in", DATE), "size": ("People", INT), "month_offset": ("Months since", INT),
    "active": ("Active", INT), "active_share": ("Share active", PERCENT),
    "share_of_active": ("Share of active people", PERCENT), "first_day": ("First used", DATE),
    "day_number": ("Days since the first", INT), "new_users": ("First used that day", INT),
    "people_so_far": ("People who have used it", INT),
}  # fmt: skip


# Dashboard


def _trend(query: dict) -> tuple[Filters, pl.DataFrame]:
    """Each bucket beside the previous period's bucket drawn behind it (the one at the same position)."""
    filters = page_filters(query)
    current = usage.interactions_over_time(filters)
    if current["interactions"].sum() == 0:
        return filters, current.clear().select(pl.col("key").alias("period_start"), "interactions", "active_users")
    before = filters.period.previous()
    previous = usage.interactions_over_time(filters.for_period(before)).head(current.height)
    gap = dashboard_tab.comparison_gap(filters, before)
    missing = pl.Series([dashboard_tab.before_data(key, filters.grain, gap) for key in previous["key"]], dtype=bool)
    rows = current.select(pl.col("key").alias("period_start"), "interactions", "active_users").with_row_index()
    behind = previous.select(  # empty, as the chart draws no line, where the data had not started
        pl.col("key").alias("previous_period_start"),
        *(pl.when(missing).then(None).otherwise(pl.col(column)).alias(f"previous_{column}")
          for column in ("interactions", "active_users")),
    ).with_row_index()  # fmt: skip
    return filters, rows.join(behind, on="index", how="left").drop("index")


def _cost(query: dict) -> tuple[Filters, pl.DataFrame]:
    filters = page_filters(query)
    frame = usage.interactions_over_time(filters)
    return filters, _unless_idle(frame, frame.select(pl.col("key").alias("period_start"), "cost_usd"))


def _top(by: str) -> Rows:
    def rows(query: dict) -> tuple[Filters, pl.DataFrame]:
        filters = page_filters(query)
        frame = dashboard_tab.top_rows(usage.interactions_by_key(filters, by))
        return filters, frame.select(pl.col("label").alias(by), "interactions", "active_users", "cost_usd")

    return rows


# Analytics


def _agents(query: dict) -> tuple[Filters, pl.DataFrame]:
    filters = page_filters(query)
    frame = analytics_tab.agents_shown(analytics.agent_stats(filters))
    return filters, frame.select(pl.col("label").alias("agent"), "interactions", "active_users", "error_rate",
                                 "cost_usd")  # fmt: skip


def _teams(query: dict) -> tuple[Filters, pl.DataFrame]:
    filters = page_filters(query)
    frame = analytics.team_stats(filters)
    frame = analytics_tab.teams_shown(frame) if frame["interactions"].sum() else frame.clear()
    return filters, frame.select(pl.col("label").alias("team"), "share", "interactions", "active_users", "members",
                                 "adoption")  # fmt: skip


def _over_time(query: dict) -> tuple[Filters, pl.DataFrame]:
    filters = page_filters(query, read_grain=True)
    by = query.get("stack") or ids.ANALYTICS_DEFAULT_STACK
    frame = analytics.interactions_over_time_by(filters, by, analytics_tab.TOP_SERIES)
    rows = frame.select(pl.col("bucket").alias("period_start"), pl.col("label").alias("series"), "interactions",
                        "cost_usd")  # fmt: skip
    return filters, _unless_idle(frame, rows)


def _heatmap(query: dict) -> tuple[Filters, pl.DataFrame]:
    filters = page_filters(query)
    frame = analytics.activity_heatmap(filters).sort("weekday", "hour")
    rows = frame.select(pl.col("weekday").map_elements(lambda d: WEEKDAYS[d - 1], pl.String), "hour", "interactions")
    return filters, _unless_idle(frame, rows)


# Users


def _distribution(query: dict) -> tuple[Filters, pl.DataFrame]:
    filters = page_filters(query)
    activity = users.people_activity(filters)
    return filters, _unless_idle(activity, users.usage_buckets(activity))


def _adoption(query: dict) -> tuple[Filters, pl.DataFrame]:
    filters = page_filters(query)
    curve = users.adoption_curve(filters)
    rows = curve.select("day", "users_with_access", "adopted_users")
    return filters, rows if curve["users_with_access"].max() else rows.clear()


# Adoption


def _funnel(query: dict) -> tuple[Filters, pl.DataFrame]:
    filters = page_filters(query)
    frame = adoption.funnel(filters)
    if frame.is_empty() or not frame["with_access"][0]:
        return filters, pl.DataFrame(schema={"stage": pl.String, "people": pl.Int64, "rate": pl.Float64})
    row = frame.row(0, named=True)
    stages = adoption_tab.STAGES
    people = [row[stage] for stage in stages]
    return filters, pl.DataFrame({"stage": list(stages.values()), "people": people,
                                  "rate": [n / people[0] for n in people]})  # fmt: skip


def _active_people(query: dict) -> tuple[Filters, pl.DataFrame]:
    filters = page_filters(query)
    curves = adoption.active_days(filters)
    rows = curves.select("day", "dau", "wau", "mau")
    return filters, rows if curves.height and curves["mau"].max() else rows.clear()


def _adoption_cohorts(query: dict) -> tuple[Filters, pl.DataFrame]:
    filters = page_filters(query)
    return filters, adoption.cohorts(filters)


def _agent_adoption(query: dict) -> tuple[Filters, pl.DataFrame]:
    filters = page_filters(query)
    frame = adoption_tab.agents_shown(adoption.agent_adoption(filters))
    return filters, frame.select(pl.col("label").alias("agent"), pl.col("active_users").alias("active"),
                                 "share_of_active")  # fmt: skip


def _uptake(query: dict) -> tuple[Filters, pl.DataFrame]:
    filters, curves, agent = adoption_tab.picked(query)
    curve = curves.filter(pl.col("agent_id") == agent)
    return filters, curve.select(pl.col("label").alias("agent"), "first_day", "day", "day_number", "new_users",
                                 pl.col("users").alias("people_so_far"))  # fmt: skip


def _agent_cohorts(query: dict) -> tuple[Filters, pl.DataFrame]:
    filters, _curves, agent = adoption_tab.picked(query)
    columns = ["agent", "cohort_month", "size", "month_offset", "active", "active_share"]
    if agent is None:
        return filters, pl.DataFrame(schema=dict.fromkeys(columns, pl.String))
    label = adoption.labels("agent", pl.Series([agent]))[0]
    return filters, adoption.agent_cohorts(filters, agent).with_columns(pl.lit(label).alias("agent")).select(columns)


# Billing


def _billing_daily(query: dict, today: dt.date | None = None) -> tuple[Filters, pl.DataFrame]:
    """Cost per day as drawn (in cents), and the projected days after today in the current period."""
    today = today or today_local(org_timezone())
    filters = billing_tab.billing_filters(query, today)
    frame = billing.cost_by_day(filters)
    rows = frame.select(pl.col("key").alias("day"), pl.col("cost_cents").alias("cost_usd"))
    if frame["interactions"].sum() == 0:
        return filters, rows.clear()
    if filters.period == billing_tab.current_period(today):
        projection = billing.projection(filters, today)
        rate = to_cents(projection.run_rate)
        ahead = [today + dt.timedelta(days=i) for i in range(1, projection.remaining_days + 1)]
        rows = rows.with_columns(pl.lit(None, pl.Decimal(38, 2)).alias("projected_cost_usd"))
        projected = pl.DataFrame({"day": ahead, "projected_cost_usd": [rate] * len(ahead)},
                                 schema={"day": pl.Date, "projected_cost_usd": pl.Decimal(38, 2)})  # fmt: skip
        rows = pl.concat([rows.filter(pl.col("day") <= today), projected], how="diagonal_relaxed")
    return filters, rows


def _billing_by(by: str) -> Rows:
    def rows(query: dict) -> tuple[Filters, pl.DataFrame]:
        filters = billing_tab.billing_filters(query, today_local(org_timezone()))
        frame = billing.cost_by_key(filters, by)
        labels, cents, shares = billing_tab.bars_shown(frame)
        schema = {by: pl.String, "cost_usd": pl.Decimal(38, 2), "cost_share": pl.Float64}
        return filters, pl.DataFrame({by: labels, "cost_usd": cents, "cost_share": shares}, schema=schema)

    return rows


def _unless_idle(activity: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """No rows when the chart says there were no interactions (it draws nothing either)."""
    return rows if activity.height and activity["interactions"].sum() else rows.clear()


CHARTS: dict[str, tuple[str, Rows]] = {
    ids.DASHBOARD_TREND: ("Usage trend", _trend),
    ids.DASHBOARD_COST_DAILY: ("Cost in period", _cost),
    ids.DASHBOARD_TOP_AGENTS: ("Top agents", _top("agent")),
    ids.DASHBOARD_TOP_TEAMS: ("Top teams", _top("team")),
    ids.ANALYTICS_AGENT_CHART: ("Top agents by interactions", _agents),
    ids.ANALYTICS_TEAM_CHART: ("Share of interactions by team", _teams),
    ids.ANALYTICS_OVER_TIME: ("Interactions over time", _over_time),
    ids.ANALYTICS_HEATMAP: ("Activity by weekday and hour", _heatmap),
    ids.USERS_DISTRIBUTION: ("Interactions per user", _distribution),
    ids.USERS_ADOPTION: ("Adoption over time", _adoption),
    ids.ADOPTION_FUNNEL: ("Adoption funnel", _funnel),
    ids.ADOPTION_ACTIVE: ("Daily, weekly and monthly active people", _active_people),
    ids.ADOPTION_COHORTS: ("Cohorts", _adoption_cohorts),
    ids.ADOPTION_AGENTS: ("Agent adoption", _agent_adoption),
    ids.ADOPTION_UPTAKE: ("Agent uptake", _uptake),
    ids.ADOPTION_AGENT_COHORTS: ("Cohorts of the agent's first users", _agent_cohorts),
    ids.BILLING_DAILY: ("Cost per day", _billing_daily),
    ids.BILLING_MODEL_CHART: ("Cost per model", _billing_by("model")),
    ids.BILLING_TEAM_CHART: ("Cost per team", _billing_by("team")),
    ids.BILLING_AGENT_CHART: ("Cost per agent", _billing_by("agent")),
}


def chart_table(chart: str, query: dict) -> tuple[Filters, Table]:
    """What the card `chart` draws for this query, in the viewer's scope. KeyError for an unknown chart."""
    title, rows = CHARTS[chart]
    filters, frame = rows(query)
    headers = {name: COLUMNS[name][0] for name in frame.columns}
    kinds = {name: COLUMNS[name][1] for name in frame.columns}
    return filters, Table(chart, title, frame, kinds, headers=headers)


def chart_csv(chart: object, query: dict) -> dict | None:
    """The card's data as a CSV download, audited; None for a chart this app has not or a period it refuses."""
    if not isinstance(chart, str) or chart not in CHARTS:
        return None
    try:
        filters, table = chart_table(chart, query)
    except (PeriodError, ValueError):  # a malformed URL: the card itself says why
        return None
    period = filters.period
    detail = {"what": f"chart:{chart}", "format": "csv", "start": str(period.start), "end": str(period.end),
              "teams": ",".join(filters.teams), "agents": ",".join(filters.agents),
              "rows": table.frame.height}  # fmt: skip
    audit("export", detail)
    return dcc.send_string(table_csv(table).decode(), f"telemetry-{chart}-{period.start}-to-{period.end}.csv")


def download_csv(asked: dict | None, search: str | None):
    """A menu's "Download data (CSV)": which card from what the menu put in the store, what it shows from the URL."""
    if not isinstance(asked, dict):
        return no_update
    try:
        query = query_from_search(search)
    except PeriodError:
        return no_update
    return chart_csv(asked.get("chart"), query) or no_update


def register_callbacks(app: dash.Dash) -> None:
    app.callback(
        Output(ids.CHART_DOWNLOAD, "data"),
        Input(ids.CHART_CSV, "data"),
        State(ids.SHELL_LOCATION, "search"),
        prevent_initial_call=True,
    )(download_csv)
