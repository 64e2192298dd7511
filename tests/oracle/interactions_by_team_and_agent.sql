-- Usage and cost per team and per agent (`kind`) with interactions in the period, most first within each.
with scoped as (
    select team_id, agent_id, user_id, cost_usd
    from events
    where ts >= $from_ts and ts < $to_ts
        and utc_date between $from_utc_date and $to_utc_date
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
),
keyed as (
    select 'team' as kind, team_id as key, user_id, cost_usd from scoped
    union all
    select 'agent' as kind, agent_id as key, user_id, cost_usd from scoped
),
labels as (
    select 'team' as kind, team_id as key, name as label from teams
    union all
    select 'agent' as kind, agent_id as key, name as label from agents
),
totals as (
    select
        kind,
        key,
        count(*) as interactions,
        count(distinct user_id) as active_users,
        sum(cost_usd)::decimal(38, 6) as cost_usd
    from keyed
    group by kind, key
)
select
    totals.kind,
    totals.key,
    coalesce(labels.label, totals.key) as label,
    totals.interactions,
    totals.active_users,
    totals.cost_usd
from totals
left join labels on labels.kind = totals.kind and labels.key = totals.key
order by totals.kind, totals.interactions desc, totals.key
