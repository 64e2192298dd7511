"""The data points a report can hold, each a typed table drawn from the query layer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from queries import adoption, analytics, billing, usage, users
from queries.filters import Filters
from queries.period import Comparison, Period, comparison, today_local
from reports.formats import format_dates, no_data_before, point_change, relative_change

# Column kinds say how a cell is written: a number, money, a share, a date or text.
TEXT, INT, FLOAT, PERCENT, USD, DATE, DATETIME = "text", "int", "float", "percent", "usd", "date", "datetime"


@dataclass(frozen=True)
class Chart:
    """A native chart for the sheet: `kind` is line (over time) or bar (a breakdown)."""

    kind: str
    category: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    frame: pl.DataFrame
    kinds: dict[str, str]
    chart: Chart | None = None
    headers: dict[str, str] = field(default_factory=dict)
    unit_column: str | None = None  # names each row's kind for its FLOAT columns (the KPI table mixes units)

    @property
    def columns(self) -> list[str]:
        return [c for c in self.frame.columns if c != self.unit_column]

    def kind(self, column: str, row: dict) -> str:
        kind = self.kinds.get(column, TEXT)
        return row[self.unit_column] if self.unit_column and kind == FLOAT else kind

    def header(self, column: str) -> str:
        return self.headers.get(column, column.replace("_", " ").capitalize())


def _summary(filters: Filters) -> Table:
    """The KPIs against the comparison period, like for like as on the Dashboard (`queries.period.comparison`):
    a period that reaches today compares its complete days with the same days earlier."""
    compared = comparison(filters.period, today_local(filters.period.tz))
    now = usage.summary(filters).row(0, named=True)
    adopted = usage.adoption(filters).row(0, named=True)
    if compared.current is None:  # not one complete day yet: nothing to compare
        so_far = before = {key: 0 for key in now}
        adopted_so_far = adopted_before = {"active_users": 0, "users_with_access": 0}
        no_data = "no complete day yet"
    else:
        current, previous = filters.for_period(compared.current), filters.for_period(compared.previous)
        so_far = now if current == filters else usage.summary(current).row(0, named=True)
        adopted_so_far = adopted if current == filters else usage.adoption(current).row(0, named=True)
        before = usage.summary(previous).row(0, named=True)
        adopted_before = usage.adoption(previous).row(0, named=True)
        first_day = usage.data_bounds(filters.scope, filters.period.tz)["first_day"][0]
        no_data = no_data_before(compared.previous.start, first_day)
    compared_with = _compared_with(compared)

    def rate(row: dict) -> float:
        return row["active_users"] / row["users_with_access"] if row["users_with_access"] else 0.0

    def change(value: float, earlier: float, unit: str) -> str:
        # a rate changes by percentage points, anything else relatively
        return no_data or (point_change if unit == PERCENT else relative_change)(value, earlier)[0]

    metrics = [
        ("Total interactions", "interactions", INT),
        ("Active users", "active_users", INT),
        ("Cost (USD)", "cost_usd", USD),
        ("Errors", "errors", INT),
        ("Input tokens", "input_tokens", INT),
        ("Output tokens", "output_tokens", INT),
    ]
    rows = [(name, float(now[key]), float(so_far[key]), float(before[key]), unit) for name, key, unit in metrics]
    share = ("Active share (active users / people with access)", rate(adopted), rate(adopted_so_far))
    rows.insert(3, (*share, rate(adopted_before), PERCENT))
    frame = pl.DataFrame(
        {
            "metric": [r[0] for r in rows],
            "value": [r[1] for r in rows],
            "previous_period": [r[3] for r in rows],
            "change": [change(*r[2:]) for r in rows],
            "compared": [compared_with] * len(rows),
            "unit": [r[4] for r in rows],
        }
    )
    kinds = {"metric": TEXT, "value": FLOAT, "previous_period": FLOAT, "change": TEXT, "compared": TEXT}
    headers = {"previous_period": "Previous period", "compared": "Change compares"}
    return Table("summary", "Summary KPIs", frame, kinds, headers=headers, unit_column="unit")


def _compared_with(compared: Comparison) -> str:
    """What the Change column compares, in words: "2 Mar – 8 Mar 2026 vs 23 Feb – 1 Mar 2026", the period's
    complete days only when it reaches today."""
    if compared.current is None:
        return "today is partial: no complete day yet"
    partial = " (up to yesterday: today is partial)" if compared.partial else ""
    return f"{format_dates(compared.current)}{partial} vs {format_dates(compared.previous)}"


def days_in_period(bucket: dt.date, grain: str, period: Period) -> int:
    """How many days of a day/week/month bucket fall inside the period (edge buckets can be partial)."""
    if grain == "day":
        end = bucket
    elif grain == "week":
        end = bucket + dt.timedelta(days=6)
    else:
        end = (bucket.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return (min(end, period.end) - max(bucket, period.start)).days + 1


def _usage_over_time(filters: Filters) -> Table:
    frame = usage.interactions_over_time(filters)
    frame = frame.select(
        pl.col("key").alias("period_start"),
        pl.Series("days_in_period", [days_in_period(b, filters.grain, filters.period) for b in frame["key"]], pl.Int64),
        "interactions", "active_users", "cost_usd",
    )  # fmt: skip
    kinds = {"period_start": DATE, "days_in_period": INT, "interactions": INT, "active_users": INT, "cost_usd": USD}
    chart = Chart("line", "period_start", ("interactions", "active_users"))
    title = {"day": "Usage per day", "week": "Usage per week", "month": "Usage per month"}[filters.grain]
    headers = {"period_start": f"{filters.grain.capitalize()} starting", "days_in_period": "Days in period",
               "cost_usd": "Cost (USD)"}  # fmt: skip
    return Table("usage_over_time", title, frame, kinds, chart, headers)


def _by_agent(filters: Filters) -> Table:
    frame = analytics.agent_stats(filters).select(
        pl.col("label").alias("agent"), "interactions", "active_users", "interactions_per_active_user",
        "error_rate", "avg_latency_ms", "input_tokens", "output_tokens", "cost_usd",
    )  # fmt: skip
    kinds = {
        "agent": TEXT, "interactions": INT, "active_users": INT, "interactions_per_active_user": FLOAT,
        "error_rate": PERCENT, "avg_latency_ms": FLOAT, "input_tokens": INT, "output_tokens": INT, "cost_usd": USD,
    }  # fmt: skip
    headers = {"avg_latency_ms": "Avg latency (ms)", "cost_usd": "Cost (USD)"}
    return Table("by_agent", "Usage by agent", frame, kinds, Chart("bar", "agent", ("interactions",)), headers)


def _by_team(filters: Filters) -> Table:
    frame = analytics.team_stats(filters).select(
        pl.col("label").alias("team"), "members", "active_users", "adoption", "interactions", "share",
        "interactions_per_member", "cost_usd",
    )  # fmt: skip
    kinds = {
        "team": TEXT, "members": INT, "active_users": INT, "adoption": PERCENT, "interactions": INT,
        "share": PERCENT, "interactions_per_member": FLOAT, "cost_usd": USD,
    }  # fmt: skip
    # "Active share", as on the Analytics tab and the summary: not the Users tab's "Adopted" (ever used)
    headers = {"adoption": "Active share", "share": "Share of interactions", "cost_usd": "Cost (USD)"}
    return Table("by_team", "Usage by team", frame, kinds, Chart("bar", "team", ("interactions",)), headers)


def _per_user(filters: Filters) -> Table:
    frame = users.user_activity(filters).select(
        "name", "email", "team", "interactions", "active_days", "last_active", "most_used_agent", "frequency"
    )
    kinds = {
        "name": TEXT, "email": TEXT, "team": TEXT, "interactions": INT, "active_days": INT,
        "last_active": DATETIME, "most_used_agent": TEXT, "frequency": TEXT,
    }  # fmt: skip
    return Table("per_user", "Per-user activity", frame, kinds, headers={"last_active": "Last active (local)"})


def _not_adopted(filters: Filters) -> Table:
    since = pl.col("created_at").dt.convert_time_zone(filters.period.tz).dt.date()
    frame = (
        users.people_activity(filters)
        .filter(pl.col("frequency") == "not adopted")
        .select("name", "email", "team", since.alias("access_since"),
                (pl.lit(filters.period.end) - since).dt.total_days().alias("days_with_access"))  # fmt: skip
        .sort("access_since", "name")
    )
    kinds = {"name": TEXT, "email": TEXT, "team": TEXT, "access_since": DATE, "days_with_access": INT}
    headers = {"access_since": "Has had access since"}
    return Table("not_adopted", "Not adopted yet", frame, kinds, headers=headers)


def _billing_by(by: str, title: str) -> Callable[[Filters], Table]:
    def build(filters: Filters) -> Table:
        frame = billing.cost_by_key(filters, by).select(
            pl.col("label").alias(by), "interactions", pl.col("cost_cents").alias("cost_usd"), "share"
        )
        kinds = {by: TEXT, "interactions": INT, "cost_usd": USD, "share": PERCENT}
        headers = {"cost_usd": "Cost (USD)", "share": "Share of total"}
        return Table(f"billing_by_{by}", title, frame, kinds, Chart("bar", by, ("cost_usd",)), headers)

    return build


# Adoption in depth (docs/metrics.md): each metric a data point, as the Users tab's Adoption section shows it.
ADOPTION_KINDS = {
    "with_access": INT, "tried": INT, "active": INT, "habitual": INT, "power": INT, "dau": FLOAT, "wau": FLOAT,
    "mau": FLOAT, "stickiness": PERCENT, "interactions": INT, "cost_usd": USD, "cost_per_active_usd": USD,
    "cost_per_interaction_usd": USD, "previous_cost_per_active_usd": USD, "previous_cost_per_interaction_usd": USD,
    "share_of_active": PERCENT,
}  # fmt: skip
ADOPTION_HEADERS = {
    "dau": "Daily active (avg)", "wau": "Weekly active (avg)", "mau": "Monthly active (avg)",
    "cost_usd": "Cost (USD)", "cost_per_active_usd": "Cost per active person (USD)",
    "cost_per_interaction_usd": "Cost per interaction (USD)",
    "previous_cost_per_active_usd": "Cost per active person, previous period (USD)",
    "previous_cost_per_interaction_usd": "Cost per interaction, previous period (USD)",
    "share_of_active": "Share of active people",
}  # fmt: skip


def _adoption(by: str, title: str) -> Callable[[Filters], Table]:
    """The funnel, active people, stickiness and costs per organisation, team or agent."""

    def build(filters: Filters) -> Table:
        name = {"org": "scope", "team": "team", "agent": "agent"}[by]
        frame = adoption.adoption(filters, by).select(pl.col("label").alias(name), *ADOPTION_KINDS)
        key = "adoption" if by == "org" else f"adoption_by_{by}"
        chart = None if by == "org" else Chart("bar", name, ("active", "habitual"))
        return Table(key, title, frame, {name: TEXT, **ADOPTION_KINDS}, chart, ADOPTION_HEADERS)

    return build


def _active_people(filters: Filters) -> Table:
    frame = adoption.active_days(filters).select("day", "dau", "wau", "mau")
    kinds = {"day": DATE, "dau": INT, "wau": INT, "mau": INT}
    headers = {"dau": "Daily active", "wau": "Weekly active (7 days)", "mau": "Monthly active (28 days)"}
    return Table("active_people", "Active people (DAU, WAU, MAU)", frame, kinds,
                 Chart("line", "day", ("dau", "wau", "mau")), headers)  # fmt: skip


def _cohorts(filters: Filters) -> Table:
    frame = adoption.cohorts(filters)
    kinds = {"cohort_month": DATE, "size": INT, "month_offset": INT, "active": INT, "active_share": PERCENT}
    headers = {"cohort_month": "First active in", "size": "People", "month_offset": "Months since"}
    return Table("cohorts", "Cohorts", frame, kinds, headers=headers)


def _agent_adoption(filters: Filters) -> Table:
    frame = adoption.agent_adoption(filters).select(pl.col("label").alias("agent"), "active_users", "share_of_active")
    kinds = {"agent": TEXT, "active_users": INT, "share_of_active": PERCENT}
    headers = {"active_users": "Active people", "share_of_active": "Share of active people"}
    return Table("agent_adoption", "Agent adoption", frame, kinds, Chart("bar", "agent", ("share_of_active",)),
                 headers)  # fmt: skip


MODEL_KINDS = {
    "model": TEXT, "interactions": INT, "cost_usd": USD, "cost_per_interaction_usd": USD,
    "previous_cost_per_interaction_usd": USD, "cost_per_active_usd": USD, "previous_cost_per_active_usd": USD,
}  # fmt: skip


def _cost_per_model(filters: Filters) -> Table:
    """Per model: cost per interaction, and its part of the cost per active person, against the previous period."""
    frame = adoption.model_costs(filters).select(pl.col("label").alias("model"), *list(MODEL_KINDS)[1:])
    headers = {**ADOPTION_HEADERS, "cost_per_active_usd": "Cost per active person, its part (USD)",
               "previous_cost_per_active_usd": "Cost per active person, its part, previous period (USD)"}  # fmt: skip
    return Table("cost_per_model", "Cost per model", frame, MODEL_KINDS, headers=headers)


def _agent_uptake(filters: Filters) -> Table:
    """Every agent of the scope, each day from its first interaction in it: the people who have used it so far."""
    frame = adoption.uptake(filters).select(
        pl.col("label").alias("agent"), "first_day", "day", "day_number", "new_users", "users"
    )
    kinds = {"agent": TEXT, "first_day": DATE, "day": DATE, "day_number": INT, "new_users": INT, "users": INT}
    headers = {"first_day": "First used", "day_number": "Days since the first", "new_users": "First used that day",
               "users": "People who have used it"}  # fmt: skip
    return Table("agent_uptake", "Agent uptake", frame, kinds, headers=headers)


def _agent_cohorts(filters: Filters) -> Table:
    """The cohorts of each agent's first users (the agents of the scope, newest first)."""
    agents = adoption.uptake_agents(adoption.uptake(filters))
    parts = [
        adoption.agent_cohorts(filters, row["agent_id"]).select(pl.lit(row["label"]).alias("agent"), pl.all())
        for row in agents.iter_rows(named=True)
    ]
    kinds = {"agent": TEXT, "cohort_month": DATE, "size": INT, "month_offset": INT, "active": INT,
             "active_share": PERCENT}  # fmt: skip
    schema = {"agent": pl.String, "cohort_month": pl.Date, "size": pl.Int64, "month_offset": pl.Int32,
              "active": pl.Int64, "active_share": pl.Float64}  # fmt: skip
    frame = pl.concat(parts) if parts else pl.DataFrame(schema=schema)
    headers = {"cohort_month": "First used in", "size": "People", "month_offset": "Months since"}
    return Table("agent_cohorts", "Cohorts of agents' first users", frame, kinds, headers=headers)


def _seats_to_reclaim(filters: Filters) -> Table:
    """As of today, whatever the period: the scope's people with access idle for 30 days or more."""
    frame = adoption.reclaim(filters.scope, filters.period.tz, adoption.RECLAIM_DAYS[0]).select(
        "name", "email", "team", "managers", "access_since", "last_active", "idle_days"
    )
    kinds = {"name": TEXT, "email": TEXT, "team": TEXT, "managers": TEXT, "access_since": DATE,
             "last_active": DATE, "idle_days": INT}  # fmt: skip
    headers = {"access_since": "Has had access since", "idle_days": "Days idle"}
    return Table("seats_to_reclaim", "Seats idle 30 days as of today", frame, kinds, headers=headers)


POINTS: dict[str, tuple[str, Callable[[Filters], Table]]] = {
    "summary": ("Summary KPIs", _summary),
    "usage_over_time": ("Usage over time", _usage_over_time),
    "by_agent": ("Usage by agent", _by_agent),
    "by_team": ("Usage by team", _by_team),
    "per_user": ("Per-user activity", _per_user),
    "not_adopted": ("Not-adopted users", _not_adopted),
    "billing_by_team": ("Billing by team", _billing_by("team", "Cost by team")),
    "billing_by_agent": ("Billing by agent", _billing_by("agent", "Cost by agent")),
    "billing_by_model": ("Billing by model", _billing_by("model", "Cost by model")),
    "adoption": ("Adoption funnel and stickiness", _adoption("org", "Adoption")),
    "adoption_by_team": ("Adoption by team", _adoption("team", "Adoption by team")),
    "adoption_by_agent": ("Adoption by agent", _adoption("agent", "Adoption by agent")),
    "active_people": ("Daily / weekly / monthly active people", _active_people),
    "cohorts": ("Cohorts", _cohorts),
    "seats_to_reclaim": ("Seats to reclaim", _seats_to_reclaim),
    "agent_adoption": ("Agent adoption", _agent_adoption),
    "cost_per_model": ("Cost per model (per interaction, per active person)", _cost_per_model),
    "agent_uptake": ("Agent uptake", _agent_uptake),
    "agent_cohorts": ("Cohorts of agents' first users", _agent_cohorts),
}


def build_table(point: str, filters: Filters) -> Table:
    if point not in POINTS:
        raise ValueError(f"Unknown data point {point!r}; use some of {', '.join(POINTS)}.")
    return POINTS[point][1](filters)
