-- Usage and cost per team, agent or user ($by), most first, from the rollups (as tests/oracle/interactions_by_key.sql).
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
-- per person: their rows of user_totals in the scope, each the running sums at the period's last day minus
-- the day before its first (queries/sql/macros.sql, `active_through`)
user_rows as (
    select
        user_id,
        coalesce(running_interactions[days_to], 0) - coalesce(running_interactions[days_from], 0) as interactions,
        coalesce(running_cost_usd[days_to], 0) - coalesce(running_cost_usd[days_from], 0) as cost_usd
    from (
        select
            *,
            active_through(days, days_before, month_index(month0, $start_date::date - 1), day($start_date::date - 1))
                as days_from,
            active_through(days, days_before, month_index(month0, $end_date), day($end_date::date)) as days_to
        from totals_in_scope($team_ids, $agent_ids)
        where $by = 'user'
    )
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
