-- Interactions per local weekday (ISO, 1 = Monday) and hour, all 168 cells, from the rollups
-- (as tests/oracle/activity_heatmap.sql).
with cells as (
    select weekday::integer as weekday, hour::integer as hour
    from range(1, 8) as w(weekday), range(0, 24) as h(hour)
),
totals as (
    select isodow(day) as weekday, hour, sum(interactions)::bigint as interactions
    from hours
    where day between $start_date and $end_date
        and month between strftime($start_date, '%Y-%m') and strftime($end_date, '%Y-%m')
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
    group by all
)
select
    cells.weekday,
    cells.hour,
    coalesce(totals.interactions, 0) as interactions
from cells
left join totals on totals.weekday = cells.weekday and totals.hour = cells.hour
order by cells.weekday, cells.hour
