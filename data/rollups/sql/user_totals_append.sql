-- Rollup `user_totals` (user_totals.sql) after a write to its last months only, without reading the others:
-- its old rows (`old_totals`) cut to their first $kept months, and the rewritten months' `user_month` rows
-- appended, their running sums offset by the last kept ones; every list $months long (a new month: every row
-- grows). The same rows, in the same order, as user_totals.sql over every month. ClickHouse: arraySlice,
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
added as (
    -- the rewritten months per key, from month $kept + 1 on: their masks, and the running sums over them (from
    -- 0; a month's list runs within it)
    select
        user_id,
        team_id,
        agent_id,
        first_ts,
        first_day,
        last_day,
        list_transform(range($kept + 1, $months + 1),
            lambda j: coalesce(list_filter(months, lambda m: m.i = j)[1].days, 0)) as days,
        list_transform(range($kept + 1, $months + 1),
            lambda j: coalesce(list_filter(months, lambda m: m.i = j)[1].working_days, 0)) as working_days,
        flatten(list_transform(months, lambda m: list_transform(m.running_interactions, lambda x: x + m.before)))
            as running_interactions,
        flatten(list_transform(months, lambda m: list_transform(m.running_cost_usd, lambda x: x + m.cost_before)))
            as running_cost_usd,
        flatten(list_transform(months, lambda m: m.day_last_ts)) as day_last_ts
    from (
        select
            user_id,
            team_id,
            agent_id,
            min(first_ts) as first_ts,
            min(month_start + bit_count((days & -days) - 1)::integer) as first_day,  -- as user_totals.sql
            max(month_start + floor(log2(days))::integer) as last_day,
            list_sort(list({
                'i': year(month_start) * 12 + month(month_start) - $month0,
                'days': days,
                'working_days': working_days,
                'running_interactions': running_interactions,
                'running_cost_usd': running_cost_usd,
                'day_last_ts': day_last_ts,
                'before': interactions_before,
                'cost_before': cost_before
            })) as months  -- by `i`, the first field
        from (
            select
                *,
                sum(interactions) over keyed - interactions as interactions_before,
                sum(cost_usd) over keyed - cost_usd as cost_before
            from user_month
            window keyed as (partition by user_id, team_id, agent_id order by month_start)
        )
        group by user_id, team_id, agent_id
    )
),
moved as (
    -- people with rows in more than one team
    select code from (
        select code, team_id from old_totals
        where coalesce(days_before[$kept + 1], days_before[-1] + bit_count(days[-1])) > 0  -- as `kept`
        union
        select codes.code, user_month.team_id from user_month join user_codes as codes using (user_id)
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
