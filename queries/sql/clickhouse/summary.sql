-- Headline numbers for a period and scope: one row (as ../summary.sql). Active people: the ids of user_month rows
-- whose masks have a day of the period (uniqExact); the people the scope lists are those active (user_month: a row
-- whose mask has a day of the period) and the directory's people of the scope's teams with access.
with totals as (
    select
        toInt64(sum(interactions)) as interactions,
        toDecimal128(sum(cost_usd), 6) as cost_usd,
        toInt64(sum(errors)) as errors,
        toDecimal128(sum(input_tokens), 0) as input_tokens,
        toDecimal128(sum(output_tokens), 0) as output_tokens
    from $database.cube
    where day between {start_date:Date} and {end_date:Date}
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
),
active as (
    -- people as the 128-bit hashes of their ids, numbers (docs/clickhouse.md, "Cost rules")
    select toInt64(uniqExact(reinterpretAsUInt128(murmurHash3_128(user_id)))) as active_users
    from (
        -- a person's rows over all agents when the question asks of every agent and not per agent
        select * from $database.person_month where {every_agent:Bool}
        union all
        select * from $database.user_month where not ({every_agent:Bool})
    )
    where month between toStartOfMonth({start_date:Date}) and {end_date:Date}
        and bitAnd(days, month_days(month, {start_date:Date}, {end_date:Date})) != 0
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
),
listed as (
    select user_id
    from (
        -- a person's rows over all agents when the question asks of every agent and not per agent
        select * from $database.person_month where {every_agent:Bool}
        union all
        select * from $database.user_month where not ({every_agent:Bool})
    )
    where month between toStartOfMonth({start_date:Date}) and {end_date:Date}
        and bitAnd(days, month_days(month, {start_date:Date}, {end_date:Date})) != 0
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
    union distinct
    select user_id
    from $database.users
    where created_at < {to_ts:DateTime64(6, 'UTC')}
        and active
        and team_in_scope(team_id, {every_team:Bool}, {team_ids:Array(String)})
)
select
    totals.interactions,
    active.active_users,
    totals.cost_usd,
    totals.errors,
    totals.input_tokens,
    totals.output_tokens,
    toInt64((select count() from listed)) as users_with_access
from totals, active
