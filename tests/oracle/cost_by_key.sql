-- Cost per team, agent or model ($by) with interactions in the period, most expensive first.
-- Exact sums (they add up to summary.sql's cost_usd) and each key's share of the scope's total cost.
with scoped as (
    select
        case $by when 'team' then team_id when 'agent' then agent_id else model end as key,
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
),
totals as (
    select
        key,
        count(*) as interactions,
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
