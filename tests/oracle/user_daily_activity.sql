-- One user's interactions and cost per local day of the period, every day listed.
with days as (
    select day::date as day
    from range($start_date::timestamp, $end_date::timestamp + interval 1 day, interval 1 day) as t(day)
),
mine as (
    select timezone($tz, ts)::date as day, cost_usd
    from events
    where user_id = $user_id
        and ts >= $from_ts and ts < $to_ts
        and utc_date between $from_utc_date and $to_utc_date
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
),
per_day as (
    select day, count(*) as interactions, sum(cost_usd)::decimal(38, 6) as cost_usd
    from mine
    group by day
)
select
    days.day,
    coalesce(per_day.interactions, 0) as interactions,
    coalesce(per_day.cost_usd, 0)::decimal(38, 6) as cost_usd
from days
left join per_day on per_day.day = days.day
order by days.day
