-- Usage and cost per team, agent or user ($by), most first, from the rollups (as ../interactions_by_key.sql).
with sums as (
    select
        case $by when 'team' then team_id else agent_id end as key,
        sum(interactions)::bigint as interactions,
        sum(cost_usd)::decimal(38, 6) as cost_usd
    from cube
    where day between $start_date and $end_date
        and month between strftime($start_date, '%Y-%m') and strftime($end_date, '%Y-%m')
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
        and $by <> 'user'
    group by key
),
labels as (
    select 'team' as kind, team_id as key, name as label from teams
    union all
    select 'agent' as kind, agent_id as key, name as label from agents
    union all
    select 'user' as kind, user_id as key, name as label from users
),
active as (
    select case $by when 'team' then team_id else agent_id end as key, bit_count(bit_or(users)) as active_users
    from active_sets($period_units, $start_date, $end_date, $team_ids, $agent_ids, $by = 'team', $by = 'agent')
    where $by <> 'user'
    group by key
),
totals as (
    select sums.key, sums.interactions, active.active_users, sums.cost_usd
    from sums
    join active on active.key = sums.key
    union all
    select user_id, interactions, 1, (cost_micros * 0.000001::decimal(18, 6))::decimal(38, 6)
    from idx_per_user_if_by_user
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
