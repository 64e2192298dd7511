-- Rollup: how many people were active on each local day of $first_day..$last_day (`dau`), in the 7 (`wau`)
-- and in the 28 local days (`mau`) that end on it, for every team, every agent and everyone (as in user_sets:
-- a null team_id or agent_id means all of them; not per team × agent). Every day with someone active in its
-- 28 days, the days after the data's last included; none with nobody. The Adoption tab's curves
-- (queries/sql/adoption_active_days.sql) wherever each key is one of these groups: exact distinct counts, the
-- bits of the OR of `user_sets`' day bitmaps over each window ($first_day - 27 on), never added up.
-- ClickHouse: groupBitmapOr over a window of the day states.
with days as (
    select start as day, team_id, agent_id, users::bit as users
    from user_sets
    where kind = 'day'
        and users is not null
        and (team_id is null or agent_id is null)
        and start between $first_day::date - 27 and $last_day::date
),
groups as (
    select distinct team_id, agent_id from days
),
grid as (
    -- every day of every group, a day with nobody active too (null): the windows below are rows
    select groups.team_id, groups.agent_id, span.day::date as day, days.users
    from groups
    cross join range($first_day::timestamp - interval 27 day, $last_day::timestamp + interval 1 day, interval 1 day)
        as span(day)
    left join days
        on days.day = span.day::date
        and days.team_id is not distinct from groups.team_id
        and days.agent_id is not distinct from groups.agent_id
),
windows as (
    select
        day,
        team_id,
        agent_id,
        coalesce(bit_count(users), 0) as dau,
        coalesce(bit_count(bit_or(users) over (partition by team_id, agent_id order by day rows 6 preceding)), 0)
            as wau,
        coalesce(bit_count(bit_or(users) over (partition by team_id, agent_id order by day rows 27 preceding)), 0)
            as mau
    from grid
)
select day, team_id, agent_id, dau::integer as dau, wau::integer as wau, mau::integer as mau
from windows
where day >= $first_day::date and mau > 0
order by team_id nulls first, agent_id nulls first, day
