-- Usage, errors, latency, tokens and cost per agent (as ../agent_stats.sql); unused agents of the catalogue too.
with sums as (
    select
        toString(agent_id) as agent_id,
        toInt64(sum(interactions)) as interactions,
        toInt64(sum(errors)) as errors,
        sum(latency_sum) / nullIf(sum(latency_count), 0) as avg_latency_ms,
        toDecimal128(sum(input_tokens), 0) as input_tokens,
        toDecimal128(sum(output_tokens), 0) as output_tokens,
        toDecimal128(sum(cost_usd), 6) as cost_usd
    from $database.cube
    where day between {start_date:Date} and {end_date:Date}
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
    group by agent_id
),
people as (
    -- an OR of the bitmaps of the period's whole months (people_months) and of its other days (people_days)
    -- (docs/clickhouse.md, "Distinct people")
    select agent_id, toInt64(groupBitmapMerge(users)) as active_users
    from (
        select toString(agent_id) as agent_id, users
        from $database.people_months
        where month >= {start_date:Date} and toLastDayOfMonth(month) <= {end_date:Date}
            and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
        union all
        select toString(agent_id) as agent_id, users
        from $database.people_days
        where day between {start_date:Date} and {end_date:Date}
            and not (toStartOfMonth(day) >= {start_date:Date} and toLastDayOfMonth(day) <= {end_date:Date})
            and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
    )
    group by agent_id
),
totals as materialized (
    select sums.*, people.active_users as active_users
    from sums
    inner join people on people.agent_id = sums.agent_id
),
listed as (
    select agent_id
    from $database.agents
    where created_at < {to_ts:DateTime64(6, 'UTC')}
        and any_team_in_scope({every_team:Bool}, {team_ids:Array(String)})
        and agent_in_scope(agent_id, {every_agent:Bool}, {agent_ids:Array(String)})
    union distinct
    select agent_id from totals
)
select
    listed.agent_id as key,
    coalesce(agents.name, listed.agent_id) as label,
    coalesce(totals.interactions, 0) as interactions,
    coalesce(totals.active_users, 0) as active_users,
    totals.interactions / nullIf(totals.active_users, 0) as interactions_per_active_user,
    coalesce(totals.errors, 0) as errors,
    totals.errors / nullIf(totals.interactions, 0) as error_rate,
    toFloat64(totals.avg_latency_ms) as avg_latency_ms,
    coalesce(totals.input_tokens, toDecimal128(0, 0)) as input_tokens,
    coalesce(totals.output_tokens, toDecimal128(0, 0)) as output_tokens,
    coalesce(totals.cost_usd, toDecimal128(0, 6)) as cost_usd,
    coalesce(totals.interactions, 0) / nullIf(sum(coalesce(totals.interactions, 0)) over (), 0) as share
from listed
left join totals on totals.agent_id = listed.agent_id
left join $database.agents as agents on agents.agent_id = listed.agent_id
order by interactions desc, label, key
settings join_use_nulls = 1, enable_materialized_cte = 1
