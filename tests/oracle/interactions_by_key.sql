-- Usage and cost per team, agent or user ($by) with interactions in the period, most first.
with scoped as (
    select
        case $by when 'team' then team_id when 'agent' then agent_id else user_id end as key,
        user_id,
        cost_usd
    from events
    where ts >= $from_ts and ts < $to_ts
        and utc_date between $from_utc_date and $to_utc_date
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
),
labels as (
    select 'team' as kind, team_id as key, name as label from teams
    union all
    select 'agent' as kind, agent_id as key, name as label from agents
    union all
    select 'user' as kind, user_id as key, name as label from users
),
totals as (
    select
        key,
        count(*) as interactions,
        count(distinct user_id) as active_users,
        sum(cost_usd)::decimal(38, 6) as cost_usd
    from scoped
    group by key
)
select
    totals.key,
    coalesce(labels.label, totals.key) as label,
    totals.interactions,
    totals.active_users,
    totals.cost_usd
from totals
left join labels on labels.kind = $by and labels.key = totals.key
order by totals.interactions desc, totals.key
