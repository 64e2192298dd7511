-- Usage and cost per person with interactions in the period, most first.
with scoped as (
    select user_id, cost_usd
    from events
    where ts >= $from_ts and ts < $to_ts
        and utc_date between $from_utc_date and $to_utc_date
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
),
totals as (
    select
        user_id as key,
        count(*) as interactions,
        count(distinct user_id) as active_users,
        sum(cost_usd)::decimal(38, 6) as cost_usd
    from scoped
    group by user_id
)
select
    totals.key,
    coalesce(users.name, totals.key) as label,
    totals.interactions,
    totals.active_users,
    totals.cost_usd
from totals
left join users on users.user_id = totals.key
order by totals.interactions desc, totals.key
