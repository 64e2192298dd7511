-- Cost per local day of the period for the scope, each team and each agent in it, every day listed, with
-- the running total from the period's first day (what a budget has spent so far); from the rollups (as
-- tests/oracle/budget_spend_by_day.sql). `scope_kind` is org, team or agent; `scope_id` is null for org.
with days as (
    select day::date as day
    from range($start_date::timestamp, $end_date::timestamp + interval 1 day, interval 1 day) as t(day)
),
grouped as (
    select
        day,
        case when grouping(team_id) = 0 then 'team' when grouping(agent_id) = 0 then 'agent' else 'org' end
            as scope_kind,
        coalesce(team_id, agent_id) as scope_id,
        sum(cost_usd)::decimal(38, 6) as cost_usd
    from cube
    where day between $start_date and $end_date
        and month between strftime($start_date, '%Y-%m') and strftime($end_date, '%Y-%m')
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
    group by grouping sets ((day), (day, team_id), (day, agent_id))
),
costs as (
    select * from grouped where scope_kind = 'org' or scope_id is not null
),
scopes as (
    select 'org' as scope_kind, null::varchar as scope_id
    union
    select distinct scope_kind, scope_id from costs where scope_kind <> 'org'
)
select
    scopes.scope_kind,
    scopes.scope_id,
    days.day,
    coalesce(costs.cost_usd, 0)::decimal(38, 6) as cost_usd,
    sum(coalesce(costs.cost_usd, 0)) over (
        partition by scopes.scope_kind, scopes.scope_id order by days.day
    )::decimal(38, 6) as cumulative_usd
from scopes
cross join days
left join costs
    on costs.scope_kind = scopes.scope_kind
    and costs.scope_id is not distinct from scopes.scope_id
    and costs.day = days.day
order by scopes.scope_kind, scopes.scope_id nulls first, days.day
