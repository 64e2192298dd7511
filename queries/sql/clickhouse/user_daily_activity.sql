-- One person's interactions and cost per local day of the period, every day listed (as ../user_daily_activity.sql).
with days as (
    select arrayJoin(arrayMap(i -> {start_date:Date} + i,
        range(toUInt32(dateDiff('day', {start_date:Date}, {end_date:Date}) + 1)))) as day
),
per_day as (
    select day, toInt64(sum(interactions)) as interactions, toDecimal128(sum(cost_usd), 6) as cost_usd
    from $database.user_day
    where day between {start_date:Date} and {end_date:Date}
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
        and user_id = {user_id:String}
    group by day
)
select
    days.day as day,
    coalesce(per_day.interactions, 0) as interactions,
    coalesce(per_day.cost_usd, toDecimal128(0, 6)) as cost_usd
from days
left join per_day on per_day.day = days.day
order by days.day
settings join_use_nulls = 1
