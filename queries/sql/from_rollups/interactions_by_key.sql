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
-- per person: user_month's rows of the period's months (its rows over all agents unless the scope names
-- agents), each the running sums through the period's last day in its month minus through the day before
-- its first (queries/sql/macros.sql)
user_rows as (
    select
        user_id,
        through_day(running_interactions, days, last_day_in(month, $end_date))
            - through_day(running_interactions, days, first_day_in(month, $start_date) - 1) as interactions,
        through_day(running_cost_usd, days, last_day_in(month, $end_date))
            - through_day(running_cost_usd, days, first_day_in(month, $start_date) - 1) as cost_usd
    from user_month_rows($agent_ids)
    where month between strftime($start_date, '%Y-%m') and strftime($end_date, '%Y-%m')
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
    having sum(interactions) > 0
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
