-- Rollup: per local month × user × team × agent, and per local month × user × team over all agents
-- (`agent_id` null, a tenth of the rows, read unless a scope names agents), from the month's
-- `user_day` rows: its usage, first and last instant, and the days with activity as bit masks (bit d - 1
-- for day d of the month; `working_days`: the Mondays to Fridays among them). Per day with activity, in day
-- order (the n-th entry is the n-th set bit of `days`): the interactions and cost so far in the month
-- (`running_interactions`, `running_cost_usd`) and the day's last instant (`day_last_ts`), so that any days
-- of the month are answered from its row: the running sum through the last of them minus through the day
-- before the first (queries/sql/macros.sql, `through_day`). Active days are the bit count of the OR of the
-- masks per person and month, never added up. ClickHouse: groupBitOr, bitCount, groupArray.
with days as (
    select
        (day - day(day)::integer + 1) as month_start,
        day,
        user_id,
        team_id,
        agent_id,
        interactions,
        errors,
        cost_usd,
        first_ts,
        last_ts
    from user_day
),
per_day as (
    -- a person's day in a team, per agent (user_day's rows as they are: one per day × user × team × agent) and
    -- over all agents
    select month_start, day, user_id, team_id, agent_id, interactions, errors, cost_usd, first_ts, last_ts
    from days
    union all
    select
        month_start,
        day,
        user_id,
        team_id,
        null as agent_id,
        sum(interactions) as interactions,
        sum(errors) as errors,
        sum(cost_usd) as cost_usd,
        min(first_ts) as first_ts,
        max(last_ts) as last_ts
    from days
    group by month_start, day, user_id, team_id
),
running as (
    select
        *,
        sum(interactions) over (partition by month_start, user_id, team_id, agent_id order by day) as so_far,
        sum(cost_usd) over (partition by month_start, user_id, team_id, agent_id order by day) as cost_so_far
    from per_day
)
select
    month_start,
    user_id,
    team_id,
    agent_id,
    interactions,
    errors,
    cost_usd,
    first_ts,
    last_ts,
    days,
    working_days,
    list_transform(per_day, lambda d: d.so_far) as running_interactions,
    list_transform(per_day, lambda d: d.cost_so_far) as running_cost_usd,
    list_transform(per_day, lambda d: d.last_ts) as day_last_ts
from (
    select
        month_start,
        user_id,
        team_id,
        agent_id,
        sum(interactions)::bigint as interactions,
        sum(errors)::bigint as errors,
        sum(cost_usd)::decimal(38, 6) as cost_usd,
        min(first_ts) as first_ts,
        max(last_ts) as last_ts,
        bit_or(1 << (day(day) - 1))::integer as days,
        coalesce(bit_or(1 << (day(day) - 1)) filter (where isodow(day) <= 5), 0)::integer as working_days,
        -- the days in order: one list sorted by its first field, the day (one entry per day), costs a quarter
        -- less than three lists each ordered by day (`list(x order by day)`)
        list_sort(list({'day': day, 'so_far': so_far::bigint, 'cost_so_far': cost_so_far::decimal(38, 6),
                        'last_ts': last_ts})) as per_day
    from running
    group by month_start, user_id, team_id, agent_id
)
-- the rows over all agents first: a question that reads only them reads their row groups only
order by agent_id is not null, user_id, team_id, agent_id
