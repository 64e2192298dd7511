-- Cost per team, agent or model ($by), most expensive first, from the rollups (as tests/oracle/cost_by_key.sql).
with scoped as (
    select
        case $by when 'team' then team_id when 'agent' then agent_id else model end as key,
        interactions,
        cost_usd
    from cube
    where day between $start_date and $end_date
        and month between strftime($start_date, '%Y-%m') and strftime($end_date, '%Y-%m')
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
),
labels as (
    select 'team' as kind, team_id as key, name as label from teams
    union all
    select 'agent' as kind, agent_id as key, name as label from agents
),
totals as (
    select
        key,
        sum(interactions)::bigint as interactions,
        sum(cost_usd)::decimal(38, 6) as cost_usd
    from scoped
    group by key
)
select
    totals.key,
    coalesce(labels.label, totals.key) as label,
    totals.interactions,
    totals.cost_usd,
    (totals.cost_usd / nullif(sum(totals.cost_usd) over (), 0))::double as share
from totals
left join labels on labels.kind = $by and labels.key = totals.key
order by totals.cost_usd desc, label, totals.key
