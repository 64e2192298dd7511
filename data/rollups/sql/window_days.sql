-- Rollup input: the day bitmaps of every team, every agent and everyone (as in user_sets: a null team_id or
-- agent_id means all of them; not per team × agent) from $first_day - 27 to $last_day, what `active_windows`
-- counts (data/rollups/windows.py): how many people were active on each day of $first_day..$last_day
-- (`dau`), in the 7 (`wau`) and in the 28 local days (`mau`) that end on it, exact distinct counts, the bits of
-- the OR of these bitmaps over each window, never added up. The Adoption tab's curves
-- (queries/sql/adoption_active_days.sql) wherever each key is one of these groups.
-- ClickHouse: groupBitmapOr over a window of the day states.
select start as day, team_id, agent_id, users
from user_sets
where kind = 'day'
    and users is not null
    and (team_id is null or agent_id is null)
    and start between $first_day::date - 27 and $last_day::date
order by team_id nulls first, agent_id nulls first, day
