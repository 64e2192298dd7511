-- Rollup: each person's code, their bit in the sets (user_sets.sql). The codes kept from the last build
-- (`kept_codes`) stay, but for people no longer in `user_day` (erased from the events); new people get the
-- next codes, in an order that puts a team's people side by side (their first team), so a team's bitmaps have
-- their bits close together and compress well.
with seen as (
    -- the first team by day, then by id: a person in two teams on their first day gets the same code every build
    select user_id, arg_min(team_id, (day, team_id)) as first_team from user_day group by user_id
),
new as (
    select seen.user_id, seen.first_team from seen anti join kept_codes on kept_codes.user_id = seen.user_id
)
select kept_codes.user_id, kept_codes.code
from kept_codes
semi join seen on seen.user_id = kept_codes.user_id  -- people erased from the events lose theirs
union all
select
    user_id,
    ((select coalesce(max(code) + 1, 0) from kept_codes)
        + row_number() over (order by first_team, user_id) - 1)::integer
from new
order by code
