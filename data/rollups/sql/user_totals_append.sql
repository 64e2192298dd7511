-- Rollup `user_totals` (user_totals.sql) after a write to its last months only, without reading the others:
-- its old rows (`old_totals`) cut to their first $kept months, and the rewritten months' days appended (`new_days`:
-- their `user_day` rows), their running sums offset by the last kept ones; every list $months long (a new month:
-- every row grows). The same rows, in the same order, as user_totals.sql over every month. ClickHouse: arraySlice,
-- arrayResize, arrayConcat.
with kept as (
    -- the old rows with activity in the kept months: their first `n` days' entries stay
    select * from (
        select
            *,
            coalesce(days_before[$kept + 1], days_before[-1] + bit_count(days[-1]))::integer as n,
            coalesce(working_days_before[$kept + 1], working_days_before[-1] + bit_count(working_days[-1]))::integer
                as wn,
            -- the last kept month with activity (its last day may lie in the months rewritten, not kept)
            len(days[1:$kept]) + 1 - list_position(list_reverse(list_transform(days[1:$kept], lambda x: x <> 0)), true)
                as last_m
        from old_totals
    )
    where n > 0
),
new_per_day as (
    -- the rewritten months' days (`new_days`: their `user_day` rows), per agent and over all agents
    select day, user_id, team_id, agent_id, interactions, cost_usd, first_ts, last_ts from new_days
    union all
    select day, user_id, team_id, null as agent_id, sum(interactions) as interactions, sum(cost_usd) as cost_usd,
        min(first_ts) as first_ts, max(last_ts) as last_ts
    from new_days
    group by day, user_id, team_id
),
new_teams as materialized (
    select team_id, row_number() over (order by team_id) as team from (select distinct team_id from new_days)
),
new_agents as materialized (
    select agent_id, row_number() over (order by agent_id) as agent
    from (select distinct agent_id from new_days union select null)
),
new_rows as materialized (
    -- as user_totals.sql: one integer per person × team × agent, `i` the month's position in the lists
    select
        (codes.code::bigint << 32) | (new_teams.team << 16) | new_agents.agent as key,
        year(new_per_day.day) * 12 + month(new_per_day.day) - $month0 as i,
        new_per_day.day,
        new_per_day.interactions,
        new_per_day.cost_usd,
        new_per_day.first_ts,
        new_per_day.last_ts
    from new_per_day
    join user_codes as codes on codes.user_id = new_per_day.user_id
    join new_teams on new_teams.team_id is not distinct from new_per_day.team_id
    join new_agents on new_agents.agent_id is not distinct from new_per_day.agent_id
),
new_key_days as (
    -- the rewritten months' days in order, their running sums from 0
    select
        key,
        min(first_ts) as first_ts,
        min(day) as first_day,
        max(day) as last_day,
        list_sort(list({'day': day, 'so_far': so_far, 'cost_so_far': cost_so_far, 'last_ts': last_ts})) as per_day
    from (
        select key, day, first_ts, last_ts, sum(interactions) over w as so_far, sum(cost_usd) over w as cost_so_far
        from new_rows
        window w as (partition by key order by day)
    )
    group by key
),
new_months as (
    -- each key's rewritten months with activity, in order, and their day masks
    select
        key,
        list_transform(months, lambda m: m.i) as i_l,
        list_transform(months, lambda m: m.days) as days_l,
        list_transform(months, lambda m: m.working_days) as working_l
    from (
        select key, list_sort(list({'i': i, 'days': days, 'working_days': working_days})) as months
        from (
            select
                key,
                i,
                bit_or(1 << (day(day) - 1))::integer as days,
                coalesce(bit_or(1 << (day(day) - 1)) filter (where isodow(day) <= 5), 0)::integer as working_days
            from new_rows
            group by key, i
        )
        group by key
    )
),
added as (
    -- the rewritten months per key, from month $kept + 1 on: their masks, and the running sums over them (from 0)
    select
        codes.user_id,
        new_teams.team_id,
        new_agents.agent_id,
        new_key_days.first_ts,
        new_key_days.first_day,
        new_key_days.last_day,
        list_transform(range($kept + 1, $months + 1),
            lambda j: coalesce(new_months.days_l[list_position(new_months.i_l, j)], 0)) as days,
        list_transform(range($kept + 1, $months + 1),
            lambda j: coalesce(new_months.working_l[list_position(new_months.i_l, j)], 0)) as working_days,
        list_transform(new_key_days.per_day, lambda d: d.so_far) as running_interactions,
        list_transform(new_key_days.per_day, lambda d: d.cost_so_far) as running_cost_usd,
        list_transform(new_key_days.per_day, lambda d: d.last_ts) as day_last_ts
    from new_months
    join new_key_days on new_key_days.key = new_months.key
    join user_codes as codes on codes.code = new_months.key >> 32
    join new_teams on new_teams.team = (new_months.key >> 16) & 65535
    join new_agents on new_agents.agent = new_months.key & 65535
),
moved as (
    -- people with rows in more than one team
    select code from (
        select code, team_id from old_totals
        where coalesce(days_before[$kept + 1], days_before[-1] + bit_count(days[-1])) > 0  -- as `kept`
        union
        select codes.code, new_days.team_id from new_days join user_codes as codes using (user_id)
    )
    group by code
    having count(*) > 1
),
zeros as (
    select list_resize([]::integer[], $months - $kept, 0) as new_months
)
select
    coalesce(kept.user_id, added.user_id) as user_id,
    codes.code,
    coalesce(kept.team_id, added.team_id) as team_id,
    coalesce(kept.agent_id, added.agent_id) as agent_id,
    codes.code in (select code from moved) as moved,
    $month0::integer as month0,
    coalesce(kept.first_ts, added.first_ts) as first_ts,  -- a kept month comes first
    coalesce(kept.first_day, added.first_day) as first_day,
    coalesce(added.last_day, make_date(((kept.last_m + $month0 - 1) // 12)::integer,
        ((kept.last_m + $month0 - 1) % 12 + 1)::integer, 1) + floor(log2(kept.days[kept.last_m]))::integer) as last_day,
    list_concat(list_resize(coalesce(kept.days[1:$kept], []), $kept, 0), coalesce(added.days, new_months)) as days,
    list_concat(list_resize(coalesce(kept.working_days[1:$kept], []), $kept, 0),
        coalesce(added.working_days, new_months)) as working_days,
    list_concat(list_resize(coalesce(kept.days_before[1:$kept], []), $kept, coalesce(kept.n, 0)),
        list_transform(range(1, $months - $kept + 1), lambda k: coalesce(kept.n, 0)
            + coalesce(list_sum(list_transform(added.days[1:k - 1], lambda m: bit_count(m))), 0)))::integer[]
        as days_before,
    list_concat(list_resize(coalesce(kept.working_days_before[1:$kept], []), $kept, coalesce(kept.wn, 0)),
        list_transform(range(1, $months - $kept + 1), lambda k: coalesce(kept.wn, 0)
            + coalesce(list_sum(list_transform(added.working_days[1:k - 1], lambda m: bit_count(m))), 0)))::integer[]
        as working_days_before,
    list_concat(coalesce(kept.running_interactions[1:kept.n], []), list_transform(added.running_interactions,
        lambda x: (x + coalesce(kept.running_interactions[kept.n], 0))::bigint)) as running_interactions,
    list_concat(coalesce(kept.running_cost_usd[1:kept.n], []), list_transform(added.running_cost_usd,
        lambda x: (x + coalesce(kept.running_cost_usd[kept.n], 0))::decimal(38, 6))) as running_cost_usd,
    list_concat(coalesce(kept.day_last_ts[1:kept.n], []), added.day_last_ts) as day_last_ts
from kept
full join added
    on added.user_id = kept.user_id and added.team_id is not distinct from kept.team_id
    and added.agent_id is not distinct from kept.agent_id
join user_codes as codes on codes.user_id = coalesce(kept.user_id, added.user_id)
cross join zeros
-- as user_totals.sql: the rows over all agents first, then per agent; by code, then team
order by agent_id nulls first, codes.code, team_id nulls last
