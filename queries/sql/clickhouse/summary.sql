-- Headline numbers for a period and scope: one row (as ../summary.sql). Active people: an OR of the people
-- bitmaps; the people the scope lists are those and the directory's people of the scope's teams with access.
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
people as materialized (
    -- an OR of the bitmaps of the period's whole months (people_months) and of its other days (people_days)
    -- (docs/clickhouse.md, "Distinct people")
    select groupBitmapMergeState(users) as users
    from (
        select users
        from $database.people_months
        where month >= {start_date:Date} and toLastDayOfMonth(month) <= {end_date:Date}
            and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
        union all
        select users
        from $database.people_days
        where day between {start_date:Date} and {end_date:Date}
            and not (toStartOfMonth(day) >= {start_date:Date} and toLastDayOfMonth(day) <= {end_date:Date})
            and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
    )
),
directory as (
    -- the directory's people of the scope's teams with access by the period's end, with their code (none: never
    -- active)
    select codes.code as code
    from $database.users as users
    left join $database.user_codes as codes on codes.user_id = users.user_id
    where users.created_at < {to_ts:DateTime64(6, 'UTC')}
        and users.active
        and team_in_scope(users.team_id, {every_team:Bool}, {team_ids:Array(String)})
),
listed as (
    -- the people the scope lists: an OR of the active ones' bitmap and the directory's coded people, and those
    -- of the directory without a code
    select toInt64(groupBitmapMerge(users) + (select count() from directory where code is null)) as users_with_access
    from (
        select users from people
        union all
        select groupBitmapState(assumeNotNull(code)) as users from directory where code is not null
    )
)
select
    totals.interactions,
    toInt64(bitmapCardinality(people.users)) as active_users,
    totals.cost_usd,
    totals.errors,
    totals.input_tokens,
    totals.output_tokens,
    listed.users_with_access as users_with_access
from totals, people, listed
settings join_use_nulls = 1, enable_materialized_cte = 1
