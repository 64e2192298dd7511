-- Cost per team, agent or model ({by}), most expensive first (as ../cost_by_key.sql).
with totals as (
    select
        multiIf({by:String} = 'team', team_id, {by:String} = 'agent', toString(agent_id), toString(model)) as key,
        toInt64(sum(interactions)) as interactions,
        toDecimal128(sum(cost_usd), 6) as cost_usd
    from $database.cube
    where day between {start_date:Date} and {end_date:Date}
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
    group by key
),
labels as (
    select 'team' as kind, team_id as key, name as label from $database.teams
    union all
    select 'agent' as kind, agent_id as key, name as label from $database.agents
)
select
    totals.key as key,
    coalesce(labels.label, totals.key) as label,
    totals.interactions as interactions,
    totals.cost_usd as cost_usd,
    toFloat64(totals.cost_usd) / nullIf(toFloat64(sum(totals.cost_usd) over ()), 0) as share
from totals
left join labels on labels.kind = {by:String} and labels.key = totals.key
order by totals.cost_usd desc, label, totals.key
settings join_use_nulls = 1
