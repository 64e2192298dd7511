-- One user's interactions and cost per local day of the period, every day listed, from the rollups
-- (as tests/oracle/user_daily_activity.sql).
with days as (
    select day::date as day
    from range($start_date::timestamp, $end_date::timestamp + interval 1 day, interval 1 day) as t(day)
),
per_day as (
    select day, sum(interactions)::bigint as interactions, sum(cost_usd)::decimal(38, 6) as cost_usd
    from user_day
    where day between $start_date and $end_date
        and month between strftime($start_date, '%Y-%m') and strftime($end_date, '%Y-%m')
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
        and user_id = $user_id
    group by day
)
select
    days.day,
    coalesce(per_day.interactions, 0) as interactions,
    coalesce(per_day.cost_usd, 0)::decimal(38, 6) as cost_usd
from days
left join per_day on per_day.day = days.day
order by days.day
