-- Rollup: each person's whole history in one row per team × agent, and per team over all agents
-- (`agent_id` null), from `user_day` (every month's): a period's figures are then differences of running totals,
-- read from one row per person, whatever the period's length (queries/sql/macros.sql, `active_through`).
-- Lists per month, position 1 being the data's first month (`month0`, months since year 0): the days with
-- activity as a bit mask (`days`, `working_days`: bit d - 1 for day d) and how many came before the month
-- (`days_before`, `working_days_before`). Lists per day with activity, in day order over the whole
-- history: interactions and cost so far (`running_interactions`, `running_cost_usd`) and the day's last
-- instant (`day_last_ts`). `first_day`, `last_day`: the first and last local day with activity.
-- The n-th day with activity is the n-th entry of each. `code`: the person's (user_codes: a question looks up
-- a few people's rows faster by it than by their id). `moved`: the person has rows in more than one team,
-- so that a question over their rows adds them up (and counts a day in two teams once).
-- Built from the days, not from per-month rows holding per-day lists: DuckDB's grouped lists of lists cost
-- most of a build; here every list is one grouped list of scalars or flat structs, sorted by its first field.
-- ClickHouse: groupArray over the days sorted by day, arrayCumSum, groupBitOr per month.
with per_day as (
    -- a person's day in a team, per agent (user_day's rows as they are) and over all agents
    select day, user_id, team_id, agent_id, interactions, cost_usd, first_ts, last_ts from user_day
    union all
    select day, user_id, team_id, null as agent_id, sum(interactions) as interactions, sum(cost_usd) as cost_usd,
        min(first_ts) as first_ts, max(last_ts) as last_ts
    from user_day
    group by day, user_id, team_id
),
bounds as materialized (
    select
        min(year(day) * 12 + month(day) - 1) as month0,
        max(year(day) * 12 + month(day) - 1) - min(year(day) * 12 + month(day) - 1) + 1 as months
    from user_day
),
teams_seen as materialized (
    select team_id, row_number() over (order by team_id) as team from (select distinct team_id from user_day)
),
agents_seen as materialized (
    select agent_id, row_number() over (order by agent_id) as agent
    from (select distinct agent_id from user_day union select null)
),
day_rows as materialized (
    -- one integer per person × team × agent: groups and joins on it, not on three strings
    select
        (codes.code::bigint << 32) | (teams_seen.team << 16) | agents_seen.agent as key,
        year(per_day.day) * 12 + month(per_day.day) - bounds.month0 as i,
        per_day.day,
        per_day.interactions,
        per_day.cost_usd,
        per_day.first_ts,
        per_day.last_ts
    from per_day
    cross join bounds
    join user_codes as codes on codes.user_id = per_day.user_id
    join teams_seen on teams_seen.team_id is not distinct from per_day.team_id
    join agents_seen on agents_seen.agent_id is not distinct from per_day.agent_id
),
per_key_days as (
    -- the days with activity in order, each with its running sums over the whole history: one list sorted by
    -- its first field, the day
    select
        key,
        min(first_ts) as first_ts,
        min(day) as first_day,
        max(day) as last_day,
        list_sort(list({'day': day, 'so_far': so_far::bigint, 'cost_so_far': cost_so_far::decimal(38, 6),
                        'last_ts': last_ts})) as per_day
    from (
        select key, day, first_ts, last_ts, sum(interactions) over w as so_far, sum(cost_usd) over w as cost_so_far
        from day_rows
        window w as (partition by key order by day)
    )
    group by key
),
months as (
    -- each key's months with activity, in order, and their day masks
    select key, list_sort(list({'i': i, 'days': days, 'working_days': working_days})) as months
    from (
        select
            key,
            i,
            bit_or(1 << (day(day) - 1))::integer as days,
            coalesce(bit_or(1 << (day(day) - 1)) filter (where isodow(day) <= 5), 0)::integer as working_days
        from day_rows
        group by key, i
    )
    group by key
),
dense as (
    -- every month, with activity or not
    select
        key,
        list_transform(range(1, (select months from bounds) + 1),
            lambda j: coalesce(days_l[list_position(i_l, j)], 0)) as days,
        list_transform(range(1, (select months from bounds) + 1),
            lambda j: coalesce(working_l[list_position(i_l, j)], 0)) as working_days
    from (
        select
            key,
            list_transform(months, lambda m: m.i) as i_l,
            list_transform(months, lambda m: m.days) as days_l,
            list_transform(months, lambda m: m.working_days) as working_l
        from months
    )
),
counted as (
    select
        *,
        list_transform(days, lambda m: bit_count(m)::integer) as day_counts,
        list_transform(working_days, lambda m: bit_count(m)::integer) as working_counts
    from dense
),
moved as (
    select key >> 32 as code from months group by key >> 32 having count(distinct (key >> 16) & 65535) > 1
)
select
    codes.user_id,
    codes.code,
    teams_seen.team_id,
    agents_seen.agent_id,
    codes.code in (select code from moved) as moved,
    (select month0 from bounds)::integer as month0,
    per_key_days.first_ts,
    per_key_days.first_day,
    per_key_days.last_day,
    counted.days,
    counted.working_days,
    list_transform(range(1, len(counted.days) + 1),
        lambda j: coalesce(list_sum(counted.day_counts[1:j - 1]), 0))::integer[] as days_before,
    list_transform(range(1, len(counted.days) + 1),
        lambda j: coalesce(list_sum(counted.working_counts[1:j - 1]), 0))::integer[] as working_days_before,
    list_transform(per_key_days.per_day, lambda d: d.so_far) as running_interactions,
    list_transform(per_key_days.per_day, lambda d: d.cost_so_far) as running_cost_usd,
    list_transform(per_key_days.per_day, lambda d: d.last_ts) as day_last_ts
from counted
join per_key_days on per_key_days.key = counted.key
join user_codes as codes on codes.code = counted.key >> 32
join teams_seen on teams_seen.team = (counted.key >> 16) & 65535
join agents_seen on agents_seen.agent = counted.key & 65535
-- the rows over all agents first (kept in memory), in the order of the codes: a team's people side by side
-- (their first team), which a question of a few teams reads together; then per agent, so that a question
-- of a few agents reads their row groups only
order by agents_seen.agent_id nulls first, counted.key
