-- Rollup: each person's whole history in one row per team × agent, and per team over all agents
-- (`agent_id` null), from `user_month`: a period's figures are then differences of running totals, read
-- from one row per person, whatever the period's length (queries/sql/macros.sql, `active_through`).
-- Lists per month, position 1 being the data's first month (`month0`, months since year 0): the days with
-- activity as a bit mask (`days`, `working_days`: bit d - 1 for day d) and how many came before the month
-- (`days_before`, `working_days_before`). Lists per day with activity, in day order over the whole
-- history: interactions and cost so far (`running_interactions`, `running_cost_usd`) and the day's last
-- instant (`day_last_ts`). `first_day`, `last_day`: the first and last local day
-- with activity (of `first_ts`, of the last `day_last_ts`).
-- The n-th day with activity is the n-th entry of each. `code`: the person's (user_codes: a question looks up
-- a few people's rows faster by it than by their id). `moved`: the person has rows in more than one team,
-- so that a question over their rows adds them up (and counts a day in two teams once).
-- ClickHouse: arrayCumSum and groupArray over the months, arrayFlatten over the days.
with numbered as (
    select *, left(month, 4)::integer * 12 + right(month, 2)::integer - 1 as month_number from user_month
),
bounds as (
    select min(month_number) as month0, max(month_number) - min(month_number) + 1 as months from numbered
),
teams_seen as (
    select team_id, row_number() over (order by team_id) as team from (select distinct team_id from user_month)
),
agents_seen as (
    select agent_id, row_number() over (order by agent_id) as agent from (select distinct agent_id from user_month)
),
month_rows as (
    -- one integer per person × team × agent: groups and joins on it, not on three strings
    select
        (codes.code::bigint << 32) | (teams_seen.team << 16) | agents_seen.agent as key,
        numbered.month_number - bounds.month0 + 1 as i,
        numbered.*
    from numbered
    cross join bounds
    join user_codes as codes on codes.user_id = numbered.user_id
    join teams_seen on teams_seen.team_id is not distinct from numbered.team_id
    join agents_seen on agents_seen.agent_id is not distinct from numbered.agent_id
),
keys as (
    select
        key,
        any_value(user_id) as user_id,
        any_value(team_id) as team_id,
        any_value(agent_id) as agent_id,
        min(first_ts) as first_ts,
        -- the first local day: the lowest bit of the first month's mask (no time zone to convert)
        min(month_start + bit_count((days & -days) - 1)::integer) as first_day,
        -- and the last: the highest bit of the last month's
        max(month_start + floor(log2(days))::integer) as last_day
    from month_rows
    group by key
),
moved as (
    select key >> 32 as code from keys group by key >> 32 having count(distinct (key >> 16) & 65535) > 1
),
per_key as (
    -- the months with activity in order, each with its running sums over the whole history (a month's list
    -- runs within it): one list sorted by its first field, the month, costs less than a list per field each
    -- ordered by the month (`list(x order by i)`)
    select
        key,
        list_sort(list({
            'i': i,
            'days': days,
            'working_days': working_days,
            'running_interactions': list_transform(running_interactions, lambda x: (x + interactions_before)::bigint),
            'running_cost_usd': list_transform(running_cost_usd, lambda x: (x + cost_before)::decimal(38, 6)),
            'day_last_ts': day_last_ts
        })) as months
    from (
        select
            *,
            sum(interactions) over (partition by key order by i) - interactions as interactions_before,
            sum(cost_usd) over (partition by key order by i) - cost_usd as cost_before
        from month_rows
    )
    group by key
),
dense as (
    -- every month, with activity or not
    select
        key,
        flatten(list_transform(months, lambda m: m.running_interactions)) as running_interactions,
        flatten(list_transform(months, lambda m: m.running_cost_usd)) as running_cost_usd,
        flatten(list_transform(months, lambda m: m.day_last_ts)) as day_last_ts,
        list_transform(range(1, (select months from bounds) + 1),
            lambda j: coalesce(list_filter(months, lambda m: m.i = j)[1].days, 0)) as days,
        list_transform(range(1, (select months from bounds) + 1),
            lambda j: coalesce(list_filter(months, lambda m: m.i = j)[1].working_days, 0)) as working_days
    from per_key
)
select
    keys.user_id,
    (keys.key >> 32)::integer as code,
    keys.team_id,
    keys.agent_id,
    keys.key >> 32 in (select code from moved) as moved,
    (select month0 from bounds)::integer as month0,
    keys.first_ts,
    keys.first_day,
    keys.last_day,
    dense.days,
    dense.working_days,
    list_transform(range(1, len(dense.days) + 1),
        lambda j: coalesce(list_sum(list_transform(dense.days[1:j - 1], lambda m: bit_count(m))), 0))::integer[]
        as days_before,
    list_transform(range(1, len(dense.days) + 1),
        lambda j: coalesce(list_sum(list_transform(dense.working_days[1:j - 1], lambda m: bit_count(m))), 0))::integer[]
        as working_days_before,
    dense.running_interactions,
    dense.running_cost_usd,
    dense.day_last_ts
from dense
join keys on keys.key = dense.key
-- the rows over all agents first (kept in memory), in the order of the codes: a team's people side by side
-- (their first team), which a question of a few teams reads together; then per agent, so that a question
-- of a few agents reads their row groups only
order by keys.agent_id nulls first, keys.key
