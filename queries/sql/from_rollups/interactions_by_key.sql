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
-- per person: the period's whole local months from user_month (its rows over all agents unless the scope
-- names agents), its other days from user_day
user_rows as (
    select user_id, interactions, cost_usd
    from user_month
    where month between $first_whole_month and $last_whole_month
        and (agent_id is null and $agent_ids::varchar[] is null or agent_id is not null and $agent_ids::varchar[] is not null)
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
        and $by = 'user'
    union all
    select user_id, interactions, cost_usd
    from user_day
    where day between $start_date and $end_date
        and month in (strftime($start_date, '%Y-%m'), strftime($end_date, '%Y-%m'))
        and month not between $first_whole_month and $last_whole_month
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
        and $by = 'user'
),
totals as (
    select sums.key, sums.interactions, active.active_users, sums.cost_usd
    from sums
    join active on active.key = sums.key
    union all
    select user_id, sum(interactions)::bigint, 1, sum(cost_usd)::decimal(38, 6)
    from user_rows
    group by user_id
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
