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
people as (
    -- an OR of the bitmaps of the period's whole months (people_months) and of its other days (people_days)
    -- (docs/clickhouse.md, "Distinct people"); named once below, so merged once with no materialized table
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
    -- the directory's people of the scope's teams with access by the period's end
    select user_id
    from $database.users
    where created_at < {to_ts:DateTime64(6, 'UTC')}
        and active
        and team_in_scope(team_id, {every_team:Bool}, {team_ids:Array(String)})
),
coded as (
    -- their codes (a set lookup of the ids, not a join: half the time at 33,000 people)
    select groupBitmapState(code) as users, count() as people
    from $database.user_codes
    where user_id in (select user_id from directory)
)
select
    totals.interactions,
    toInt64(bitmapCardinality(people.users)) as active_users,
    totals.cost_usd,
    totals.errors,
    totals.input_tokens,
    totals.output_tokens,
    -- the people the scope lists: an OR of the active ones' bitmap and the directory's coded people, and those of
    -- the directory without a code (never active)
    toInt64(bitmapCardinality(bitmapOr(people.users, coded.users)) + (select count() from directory)
        - coded.people) as users_with_access
from totals, people, coded
-- no PREWHERE: these rollups are narrow and sorted by the keys filtered on; reading the filter's columns first
-- cost more CPU than it saved (benchmarks/RESULTS.md, h24-dash)
settings optimize_move_to_prewhere = 0
