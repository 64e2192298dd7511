-- Rollup: who was active, as user codes (rollups/user_codes.parquet), per local day, ISO week and month
-- (`kind`, `start`), for every team × agent, every team, every agent and everyone (grouping sets: a null
-- team_id or agent_id means all of them). Distinct users over any period and scope are the bit count of
-- the OR of the sets covering it (queries/sql/cover.sql), never added up. A set is a bitmap (`users`, bit
-- `code` set) but for a day's team × agent, the bulk of the sets and the sparsest: there the codes are
-- listed (`codes`), 4 bytes a person instead of the whole bitmap. Read from `user_day`; given are the units
-- that lie wholly inside $first_day..$last_day and end on or after $own_from (a month's file holds its
-- days, itself and the weeks that end in it). Bitmaps are BLOB: Parquet would store a BIT column as text.
-- A week's and a month's bitmaps of every team, agent and everyone are the OR of their days' (a few hundred
-- bitmaps a month), not aggregated again from the rows: a bitmap costs most per group, not per row.
-- ClickHouse: groupBitmapState per unit (lists and bitmaps alike), merged with groupBitmapOr.
with rows as (
    -- user_day holds a row per day × person × team × agent: no duplicates to drop
    select user_day.day, user_day.team_id, user_day.agent_id, codes.code
    from user_day
    join user_codes as codes on codes.user_id = user_day.user_id
    where user_day.day between $first_day and $last_day
),
days as (
    -- a day's bitmaps of every team, every agent and everyone (`scope`: which of them); not per team × agent
    select day, team_id, agent_id, grouping(team_id, agent_id) as scope, bitstring_agg(code, 0, $capacity - 1) as users
    from rows
    group by grouping sets ((day, team_id), (day, agent_id), (day))
),
units as (
    select 'day' as kind, day as start, team_id, agent_id, scope, users from days
    union all
    -- a week's and a month's: the OR of their days' bitmaps, of every team, agent and everyone
    select kind, start, team_id, agent_id, scope, bit_or(users) as users
    from (
        select 'week' as kind, date_trunc('week', day)::date as start, team_id, agent_id, scope, users from days
        union all
        select 'month' as kind, date_trunc('month', day)::date as start, team_id, agent_id, scope, users from days
    )
    group by kind, start, team_id, agent_id, scope
    union all
    -- and per team × agent, from the rows
    select kind, start, team_id, agent_id, 0 as scope, bitstring_agg(code, 0, $capacity - 1) as users
    from (
        select 'week' as kind, date_trunc('week', day)::date as start, team_id, agent_id, code from rows
        union all
        select 'month' as kind, date_trunc('month', day)::date as start, team_id, agent_id, code from rows
    )
    group by kind, start, team_id, agent_id
),
ends as (
    select *, case kind when 'week' then start + 6 when 'month' then last_day(start) else start end as last
    from units
)
select kind, start, team_id, agent_id, users, codes
from (
    select kind, start, team_id, agent_id, scope, users::blob as users, null::integer[] as codes
    from ends
    where start >= $first_day and last <= $last_day and last >= $own_from
    union all
    select 'day' as kind, day as start, team_id, agent_id, 0 as scope, null::blob as users,
        list(code order by code) as codes
    from rows
    where day >= $own_from
    group by day, team_id, agent_id
)
-- a total order, so two builds of the same rows write the same files: a null team's own set has the key of every
-- team's (both null), and a week's or month's per team × agent of one agent's; the grouping level (`scope`) tells
-- them apart, and a day's list (scope 0) comes after its key's bitmaps
order by kind, team_id nulls first, start, agent_id nulls first, users is null, scope
