-- Cost per local day of the period, every day listed (as ../cost_by_day.sql).
with days as (
    select arrayJoin(arrayMap(i -> {start_date:Date} + i,
        range(toUInt32(dateDiff('day', {start_date:Date}, {end_date:Date}) + 1)))) as day
),
totals as (
    select day, toInt64(sum(interactions)) as interactions, toDecimal128(sum(cost_usd), 6) as cost_usd
    from $database.cube
    where day between {start_date:Date} and {end_date:Date}
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
    group by day
)
select
    days.day as key,
    formatDateTime(days.day, '%Y-%m-%d') as label,
    coalesce(totals.interactions, 0) as interactions,
    coalesce(totals.cost_usd, toDecimal128(0, 6)) as cost_usd
from days
left join totals on totals.day = days.day
order by key
settings join_use_nulls = 1
