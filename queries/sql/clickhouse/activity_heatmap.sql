-- Interactions per local weekday (ISO, 1 = Monday) and hour, all 168 cells (as ../activity_heatmap.sql).
with cells as (
    select toInt32(w.number + 1) as weekday, toInt32(h.number) as hour
    from numbers(7) as w cross join numbers(24) as h
),
totals as (
    select toInt32(toDayOfWeek(day)) as weekday, toInt32(hour) as hour, toInt64(sum(interactions)) as interactions
    from $database.hours
    where day between {start_date:Date} and {end_date:Date}
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
    group by weekday, hour
)
select cells.weekday as weekday, cells.hour as hour, coalesce(totals.interactions, 0) as interactions
from cells
left join totals on totals.weekday = cells.weekday and totals.hour = cells.hour
order by cells.weekday, cells.hour
settings join_use_nulls = 1
