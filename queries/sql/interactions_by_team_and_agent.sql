-- Usage and cost per team and per agent (`kind`), most first within each, from the rollups (as
-- tests/oracle/interactions_by_team_and_agent.sql): both in one statement, as a tab shows both
-- (queries/usage.py `interactions_by_key` takes one kind's rows).
with sums as (
    select team_id, agent_id, sum(interactions) as interactions, sum(cost_usd) as cost_usd
    from cube
    where day between $start_date and $end_date
        and month between strftime($start_date, '%Y-%m') and strftime($end_date, '%Y-%m')
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
    group by team_id, agent_id
),
totals as (
    select 'team' as kind, team_id as key, sum(interactions)::bigint as interactions,
        sum(cost_usd)::decimal(38, 6) as cost_usd
    from sums
    group by team_id
    union all
    select 'agent', agent_id, sum(interactions)::bigint, sum(cost_usd)::decimal(38, 6)
    from sums
    group by agent_id
),
active as (
    select 'team' as kind, team_id as key, bit_count(bit_or(users)) as active_users
    from active_sets($period_units, $start_date, $end_date, $team_ids, $agent_ids, true, false)
    group by team_id
    union all
    select 'agent', agent_id, bit_count(bit_or(users))
    from active_sets($period_units, $start_date, $end_date, $team_ids, $agent_ids, false, true)
    group by agent_id
),
labels as (
    select 'team' as kind, team_id as key, name as label from teams
    union all
    select 'agent' as kind, agent_id as key, name as label from agents
)
select
    totals.kind,
    totals.key,
    coalesce(labels.label, totals.key) as label,
    totals.interactions,
    active.active_users,
    totals.cost_usd
from totals
join active on active.kind = totals.kind and active.key = totals.key
left join labels on labels.kind = totals.kind and labels.key = totals.key
order by totals.kind, totals.interactions desc, totals.key
