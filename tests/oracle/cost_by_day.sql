-- Cost per local day of the period, every day listed (0 when nothing happened); exact sums.
with days as (
    select day::date as day
    from range($start_date::timestamp, $end_date::timestamp + interval 1 day, interval 1 day) as t(day)
),
scoped as (
    select timezone($tz, ts)::date as day, cost_usd
    from events
    where ts >= $from_ts and ts < $to_ts
        and utc_date between $from_utc_date and $to_utc_date
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
),
totals as (
    select
        day,
        count(*) as interactions,
        sum(cost_usd)::decimal(38, 6) as cost_usd
    from scoped
    group by day
)
select
    days.day as key,
    strftime(days.day, '%Y-%m-%d') as label,
    coalesce(totals.interactions, 0) as interactions,
    coalesce(totals.cost_usd, 0)::decimal(38, 6) as cost_usd
from days
left join totals on totals.day = days.day
order by key
