-- Cost per local day of the period for the scope, each team and each agent in it, with the running total
-- (as ../budget_spend_by_day.sql). `scope_id` is null for org; joined on coalesce(scope_id, ''): ids are never ''.
with days as (
    select arrayJoin(arrayMap(i -> {start_date:Date} + i,
        range(toUInt32(dateDiff('day', {start_date:Date}, {end_date:Date}) + 1)))) as day
),
scoped as materialized (
    select day, team_id, toString(agent_id) as agent_id, cost_usd
    from $database.cube
    where day between {start_date:Date} and {end_date:Date}
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
),
costs as materialized (
    select day, 'org' as scope_kind, cast(null, 'Nullable(String)') as scope_id, toDecimal128(sum(cost_usd), 6) as cost_usd
    from scoped group by day
    union all
    select day, 'team', team_id, toDecimal128(sum(cost_usd), 6) from scoped group by day, team_id
    union all
    select day, 'agent', agent_id, toDecimal128(sum(cost_usd), 6) from scoped group by day, agent_id
),
scopes as (
    select 'org' as scope_kind, cast(null, 'Nullable(String)') as scope_id
    union distinct
    select distinct scope_kind, scope_id from costs where scope_kind <> 'org'
)
select
    scopes.scope_kind as scope_kind,
    scopes.scope_id as scope_id,
    days.day as day,
    coalesce(costs.cost_usd, toDecimal128(0, 6)) as cost_usd,
    toDecimal128(sum(coalesce(costs.cost_usd, toDecimal128(0, 6))) over (
        partition by scopes.scope_kind, scopes.scope_id order by days.day
    ), 6) as cumulative_usd
from scopes
cross join days
left join costs
    on costs.scope_kind = scopes.scope_kind
    and coalesce(costs.scope_id, '') = coalesce(scopes.scope_id, '')
    and costs.day = days.day
order by scopes.scope_kind, scopes.scope_id nulls first, days.day
settings join_use_nulls = 1, enable_materialized_cte = 1
