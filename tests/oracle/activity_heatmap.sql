-- Interactions per local weekday (ISO, 1 = Monday) and hour of day (0..23): all 168 cells listed.
with cells as (
    select weekday::integer as weekday, hour::integer as hour
    from range(1, 8) as w(weekday), range(0, 24) as h(hour)
),
scoped as (
    select
        isodow(timezone($tz, ts)) as weekday,
        hour(timezone($tz, ts)) as hour
    from events
    where ts >= $from_ts and ts < $to_ts
        and utc_date between $from_utc_date and $to_utc_date
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
),
totals as (
    select weekday, hour, count(*) as interactions
    from scoped
    group by weekday, hour
)
select
    cells.weekday,
    cells.hour,
    coalesce(totals.interactions, 0) as interactions
from cells
left join totals on totals.weekday = cells.weekday and totals.hour = cells.hour
order by cells.weekday, cells.hour
