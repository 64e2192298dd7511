-- Cost per local day of the period, every day listed, from the rollups (as tests/oracle/cost_by_day.sql).
with days as (
    select day::date as day
    from range($start_date::timestamp, $end_date::timestamp + interval 1 day, interval 1 day) as t(day)
),
totals as (
    select
        day,
        sum(interactions)::bigint as interactions,
        sum(cost_usd)::decimal(38, 6) as cost_usd
    from cube
    where day between $start_date and $end_date
        and month between strftime($start_date, '%Y-%m') and strftime($end_date, '%Y-%m')
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
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
