"""Adoption in depth (docs/metrics.md): the funnel, daily / weekly / monthly active people and stickiness,
cost per active person, cohorts and seats to reclaim, per organisation, team or agent.

Every metric is judged on the days that have passed: a period that ends after today ends today here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal

import polars as pl

from queries import directory_table, run
from queries.billing import cost_by_key
from queries.filters import Filters, check_one_of
from queries.period import MAX_DAYS, Period, cover, today_local
from queries.scope import Scope
from queries.usage import interactions_by_key, summary

# The definitions, each decided here and nowhere else (docs/metrics.md says them in words; the SQL's numbers
# 7, 3, 28 and 12 are these).
HABIT_WEEKS, HABIT_OF_WEEKS = 3, 4  # habitual: active in at least 3 of the 4 weeks (7 days) that end on the last day
POWER_DAYS = 12  # power user: habitual, and active on at least 12 of those 28 days (60% of their 20 working days)
WINDOWS = {"day": 1, "week": 7, "month": 28}  # dau, wau, mau: rolling windows of local days ending on each day
RECLAIM_DAYS = (30, 60, 90)
BY = ("org", "team", "agent")
DEFINITIONS = {
    "with_access": "People with access: the directory's people of the scope (with access by the period's end) "
    "and anyone active in it during the period.",
    "tried": "Of those, people who used an agent at least once, up to the period's end.",
    "active": "People who used an agent in the period.",
    "habitual": f"Active people who were also active in at least {HABIT_WEEKS} of the {HABIT_OF_WEEKS} weeks "
    "(7 days each) ending on the period's last day.",
    "power": f"Habitual people active on at least {POWER_DAYS} of those 28 days.",
    "dau": "Daily active people: people active on a day, averaged over the period's days.",
    "wau": "Weekly active people: people active in the 7 days ending on a day, averaged over the period's days.",
    "mau": "Monthly active people: people active in the 28 days ending on a day, averaged over the period's days.",
    "stickiness": "Average daily active people divided by average monthly active people (DAU / MAU).",
    "cost_per_active_usd": "Cost of the period divided by the people active in it.",
    "cost_per_interaction_usd": "Cost of the period divided by its interactions.",
    "cohorts": "People by the local month of their first interaction in your scope; for each month since, the "
    "share of them who were active in it.",
    "reclaim": "People of your teams with access and no interaction in your scope in the last 30, 60 or 90 days, "
    "as of today; with a seat price set, what their seats cost a month.",
    "share_of_active": "Agent adoption: of the people active in the period, the share who used the agent.",
    "model_cost_per_active_usd": "A model's cost in the period divided by all the people active in the scope: "
    "its part of the cost per active person (the models add up to it).",
    "model_cost_per_interaction_usd": "A model's cost in the period divided by the interactions it answered.",
    "uptake": "People who have used the agent, counted up day by day from its first interaction in your scope.",
    "agent_cohorts": "The agent's first users by the month of their first interaction with it, and the share of "
    "them who used it again each month since.",
}
MONEY = pl.Decimal(38, 6)
FUNNEL = ("with_access", "tried", "active", "habitual", "power")


def judged_end(period: Period, today: dt.date | None = None) -> dt.date:
    """The period's last day that has passed (today counts): its end, or today if that comes first."""
    today = today or today_local(period.tz)
    return min(period.end, today)


def funnel(filters: Filters, by: str = "org", today: dt.date | None = None) -> pl.DataFrame:
    """Rows of key ('org', a team or an agent), with_access, tried, active, habitual, power.

    The organisation's and the teams' come from one question that answers both (the Adoption tab shows both, and
    ClickHouse's cost is the reads a statement makes), kept once in the result cache for either."""
    check_one_of(by, BY, "grouping")
    last = judged_end(filters.period, today)
    both = run("adoption_funnel", filters.params(by="agent" if by == "agent" else "org", judged_end=last))
    return both.filter(pl.col("kind") == by).drop("kind")


def active_days(filters: Filters, by: str = "org", today: dt.date | None = None) -> pl.DataFrame:
    """Rows of day, key, dau, wau, mau: per day of the period up to today and per key active in the windows."""
    check_one_of(by, BY, "grouping")
    period = filters.period
    last = judged_end(period, today)
    window_start = period.start - dt.timedelta(days=max(WINDOWS.values()) - 1)
    params = filters.params(by=by, judged_end=last, window_start=window_start)
    return run(active_days_question(by, filters.scope), params)


def active_days_question(by: str, scope: Scope) -> str:
    """The SQL file that counts `active_days` best for these keys: `active_windows` where each key is one of its
    groups; the scope's day sets OR-ed per day where the one key is the organisation's over several groups (on DuckDB
    both are adoption_active_days.sql, which routes the same way); other keys per person."""
    if one_window_group(by, scope):
        return "adoption_active_days"
    return "adoption_active_days_merged" if by == "org" else "adoption_active_days_per_key"


def one_window_group(by: str, scope: Scope) -> bool:
    """Whether each key is one group of the rollup `active_windows` (everyone, a team or an agent): the scope names
    at most one team unless the keys are teams, at most one agent unless they are agents, and not both (the macro
    `one_window_group` of queries/sql/macros.sql, which routes adoption_active_days.sql the same way). Other keys
    than the organisation's one are then counted per person (adoption_active_days_per_key.sql): OR-ing each key's
    day sets over every window costs many times more, and one statement for every route takes longer to plan."""
    teams, agents = scope.team_ids, scope.agent_ids
    named_teams = by == "team" or teams is not None
    named_agents = by == "agent" or agents is not None
    return (
        (teams is None or by == "team" or len(teams) <= 1)
        and (agents is None or by == "agent" or len(agents) <= 1)
        and not (named_teams and named_agents)
    )


def stickiness(curves: pl.DataFrame) -> pl.DataFrame:
    """Per key of `active_days`: the average dau, wau and mau over its days, and stickiness (dau / mau)."""
    averages = curves.group_by("key", maintain_order=True).agg(pl.col("dau", "wau", "mau").mean())
    ratio = pl.when(pl.col("mau") > 0).then(pl.col("dau") / pl.col("mau")).otherwise(None)
    return averages.with_columns(ratio.alias("stickiness"))


def stickiness_over(filters: Filters, periods: list[Period], today: dt.date | None = None) -> list[dict | None]:
    """`stickiness` of the scope (key org) over each of `periods` (its days up to today, as `active_days` judges
    them): a row of dau, wau, mau and stickiness, None when nobody was active on those days. One `active_days`
    over the days from the first start to the last end answers them all (a day's counts do not depend on the
    period asked), as many apart if that would be longer than a period may be."""
    span = Period(min(p.start for p in periods), max(p.end for p in periods), filters.period.tz)
    if span.days > MAX_DAYS:
        return [found for period in periods for found in stickiness_over(filters, [period], today)]
    curves = active_days(filters.for_period(span), "org", today)
    found = []
    for period in periods:
        days = curves.filter(pl.col("day").is_between(period.start, period.end))
        sticky = stickiness(days)
        found.append(sticky.row(0, named=True) if sticky.height and sticky["dau"][0] else None)
    return found


def costs(filters: Filters, by: str = "org") -> pl.DataFrame:
    """Rows of key, interactions, active_users, cost_usd, cost_per_active_usd, cost_per_interaction_usd (from the
    questions the other tabs ask: the same figures)."""
    check_one_of(by, BY, "grouping")
    if by == "org":
        frame = summary(filters).select(pl.lit("org").alias("key"), "interactions", "active_users", "cost_usd")
    else:
        frame = interactions_by_key(filters, by).select("key", "interactions", "active_users", "cost_usd")
    cast = frame.cast({"key": pl.String, "interactions": pl.Int64, "active_users": pl.Int64, "cost_usd": MONEY})
    return cast.with_columns(
        per_each(frame["cost_usd"], frame["active_users"], "cost_per_active_usd"),
        per_each(frame["cost_usd"], frame["interactions"], "cost_per_interaction_usd"),
    )


def model_costs(filters: Filters) -> pl.DataFrame:
    """Rows of key (the model), label, interactions, cost_usd, cost_per_interaction_usd, cost_per_active_usd and
    both for the comparison period (`previous_...`), most expensive first. A model's cost per active person is
    its cost over all the scope's active people (the rollups count people per team and agent, not per model)."""
    rows = _model_costs(filters)
    earlier = _model_costs(filters.for_period(filters.period.previous()))
    before = _previous(earlier, "cost_per_interaction_usd", "cost_per_active_usd")
    return rows.join(before, on="key", how="left", maintain_order="left")


def _previous(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """`frame`'s key and `columns` named as the comparison period's (`previous_...`)."""
    return frame.select("key", *(pl.col(column).alias(f"previous_{column}") for column in columns))


def _model_costs(filters: Filters) -> pl.DataFrame:
    active = summary(filters)["active_users"][0]
    frame = cost_by_key(filters, "model").select("key", "label", "interactions", "cost_usd")
    cast = frame.cast({"key": pl.String, "label": pl.String, "interactions": pl.Int64, "cost_usd": MONEY})
    return cast.with_columns(
        per_each(frame["cost_usd"], frame["interactions"], "cost_per_interaction_usd"),
        per_each(frame["cost_usd"], [active] * frame.height, "cost_per_active_usd"),
    )


def agent_adoption(filters: Filters) -> pl.DataFrame:
    """Rows of key (the agent), label, active_users, share_of_active: the share of the scope's active people who
    used each agent in the period, most used first."""
    frame = interactions_by_key(filters, "agent").select("key", "label", "active_users")
    return frame.with_columns(share_of_active(filters)).sort(["active_users", "label"], descending=[True, False])


def share_of_active(filters: Filters) -> pl.Expr:
    """Each row's `active_users` as a share of the people active in the scope (None when nobody was)."""
    active = summary(filters)["active_users"][0]
    share = (pl.col("active_users").fill_null(0) / active) if active else pl.lit(None, pl.Float64)
    return share.alias("share_of_active")


def per(amount: Decimal | None, count: int | None) -> Decimal | None:
    """Money divided by a count, to the micro-dollar (half up), None when there is nothing to divide by."""
    if not count or amount is None:
        return None
    return (Decimal(amount) / count).quantize(Decimal("0.000001"), ROUND_HALF_UP)


def per_each(amounts: pl.Series, counts: pl.Series | list, name: str) -> pl.Series:
    """`per` of each amount and count, as a money column."""
    return pl.Series(name, [per(amount, count) for amount, count in zip(amounts, counts, strict=True)], MONEY)


def adoption(filters: Filters, by: str = "org", today: dt.date | None = None, compare: bool = True) -> pl.DataFrame:
    """Per key: label, the funnel, average dau / wau / mau, stickiness, interactions, cost, cost per active person
    and per interaction, and (`compare`) both for the comparison period (`previous_cost_per_active_usd`, ...)."""
    keys = funnel(filters, by, today)
    sticky = stickiness(active_days(filters, by, today))
    spent = costs(filters, by)
    joined = keys.join(sticky, on="key", how="left").join(spent, on="key", how="left")
    if compare:
        earlier = costs(filters.for_period(filters.period.previous()), by)
        before = _previous(earlier, "cost_per_active_usd", "cost_per_interaction_usd")
        joined = joined.join(before, on="key", how="left")
    filled = joined.with_columns(pl.col("dau", "wau", "mau").fill_null(0.0), pl.col("interactions").fill_null(0))
    filled = filled.with_columns(share_of_active(filters))
    return filled.with_columns(labels(by, filled["key"])).select("key", "label", *filled.columns[1:])


def labels(by: str, keys: pl.Series) -> pl.Series:
    """The names of the keys (the team's, the agent's; the id when the directory has none)."""
    if by == "org":
        return pl.Series("label", ["Organization"] * len(keys), pl.String)
    table, column = ("teams", "team_id") if by == "team" else ("agents", "agent_id")
    named = directory_table(table).filter(pl.col("name").is_not_null() & (pl.col("name") != ""))
    names = named.unique(column, keep="last", maintain_order=True)  # as a dict of them would (ids are unique)
    # an agent's uptake has a key a day: replaced in Polars, not looked up a key at a time in Python
    return keys.cast(pl.String).replace(names[column], names["name"]).alias("label")


def cohorts(filters: Filters, today: dt.date | None = None) -> pl.DataFrame:
    """Rows of cohort_month, size, month_offset, active, active_share: the scope's people by the month of their
    first activity in it (the period's months), and how many of them were active each month since."""
    last = judged_end(filters.period, today)
    month_units = list(cover(last.replace(day=1), last, "period"))  # the judged end's month up to it
    frame = run("adoption_cohorts", filters.params(judged_end=last, month_units=month_units))
    return frame.with_columns((pl.col("active") / pl.col("size")).alias("active_share"))


def uptake(filters: Filters, today: dt.date | None = None) -> pl.DataFrame:
    """Rows of agent_id, label, first_day, day, day_number, new_users, users: per agent of the scope, each day from
    its first interaction in the scope up to the period's judged end, and the people who had used it by then."""
    last = judged_end(filters.period, today)
    frame = run("agent_uptake", filters.params(judged_end=last))
    return frame.with_columns(labels("agent", frame["agent_id"])).select(
        "agent_id", "label", "first_day", "day", "day_number", "new_users", "users"
    )


def uptake_agents(curves: pl.DataFrame) -> pl.DataFrame:
    """Rows of agent_id, label, first_day, users of `uptake`'s agents, the newest first (then by name)."""
    agents = curves.group_by("agent_id", "label", "first_day").agg(pl.col("users").max())
    return agents.sort(["first_day", "label", "agent_id"], descending=[True, False, False])


def pick_agent(curves: pl.DataFrame, asked: object) -> str | None:
    """The agent the view asked for if `uptake` has it (in the scope), else the newest; None if there is none."""
    agents = uptake_agents(curves)["agent_id"].to_list()
    return asked if asked in agents else (agents[0] if agents else None)


def for_agent(filters: Filters, agent_id: str) -> Filters:
    """The same question about one agent: the scope narrowed (never widened) to it."""
    return replace(filters, scope=filters.scope.narrow(agents=(agent_id,)), agents=(agent_id,))


def agent_cohorts(filters: Filters, agent_id: str, today: dt.date | None = None) -> pl.DataFrame:
    """`cohorts` of one agent's first users: people by the month of their first interaction with it."""
    return cohorts(for_agent(filters, agent_id), today)


def reclaim(scope: Scope, tz: str, days: int, today: dt.date | None = None) -> pl.DataFrame:
    """Rows of user_id, name, email, team_id, team, managers, access_since, last_active, idle_days: the scope's
    people with access and no activity in it in the `days` days ending today, longest idle first."""
    check_one_of(days, RECLAIM_DAYS, "number of days")
    today = today or today_local(tz)
    return run("reclaim_seats", {**scope.params(), "tz": tz, "today": today, "days": days})


def seats_cost(rows: int, seat_cost_usd: Decimal | float | None) -> Decimal | None:
    """What `rows` reclaimable seats cost a month at `seat_cost_usd` per person (SEAT_COST_USD), None if unset."""
    return (
        None if seat_cost_usd is None else (Decimal(str(seat_cost_usd)) * rows).quantize(Decimal("0.01"), ROUND_HALF_UP)
    )
