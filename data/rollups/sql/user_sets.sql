-- Rollup: who was active, as user codes (rollups/user_codes.parquet), per local day, ISO week and month
-- (`kind`, `start`), for every team × agent, every team, every agent and everyone (grouping sets: a null
-- team_id or agent_id means all of them). Distinct users over any period and scope are the bit count of
-- the OR of the sets covering it (queries/sql/cover.sql), never added up. A set is a bitmap (`users`, bit
-- `code` set) but for a day's team × agent, the bulk of the sets and the sparsest: there the codes are
-- listed (`codes`), 4 bytes a person instead of the whole bitmap. Read from `user_day`; given are the units
-- that lie wholly inside $first_day..$last_day and end on or after $own_from (a month's file holds its
-- days, itself and the weeks that end in it). Bitmaps are BLOB: Parquet would store a BIT column as text.
-- ClickHouse: groupBitmapState per unit (lists and bitmaps alike), merged with groupBitmapOr.
with rows as (
    select distinct user_day.day, user_day.team_id, user_day.agent_id, codes.code
    from user_day
    join user_codes as codes on codes.user_id = user_day.user_id
    where user_day.day between $first_day and $last_day
),
units as (
    select 'day' as kind, day as start, team_id, agent_id, code from rows
    union all
    select 'week' as kind, date_trunc('week', day)::date as start, team_id, agent_id, code from rows
    union all
    select 'month' as kind, date_trunc('month', day)::date as start, team_id, agent_id, code from rows
),
ends as (
    select *, case kind when 'week' then start + 6 when 'month' then last_day(start) else start end as last
    from units
),
inside as (
    select kind, start, team_id, agent_id, code from ends
    where start >= $first_day and last <= $last_day and last >= $own_from
),
bitmaps as (
    select kind, start, team_id, agent_id, bitstring_agg(code, 0, $capacity - 1)::blob as users, null::integer[] as codes
    from inside
    group by grouping sets ((kind, start, team_id, agent_id), (kind, start, team_id), (kind, start, agent_id), (kind, start))
    having not (kind = 'day' and grouping(team_id) = 0 and grouping(agent_id) = 0)
),
lists as (
    select kind, start, team_id, agent_id, null::blob as users, list(code order by code) as codes
    from inside
    where kind = 'day'
    group by kind, start, team_id, agent_id
)
select * from bitmaps
union all
select * from lists
order by kind, team_id nulls first, start, agent_id nulls first
