-- The bitmaps of who was active in each bucket of a period within a scope: one row per bucket and per
-- team × agent, team, agent or none, as the scope and the grouping need (`by_team`, `by_agent`); a
-- question ORs them per group and counts the bits (bit_count(bit_or(users))). `units` lists the rollup
-- units that cover each bucket ({bucket, kind, start}: queries/period.py `cover`, bound as
-- $period_units or $grain_units); they may overlap, which an OR does not mind. ClickHouse: a
-- parameterised view, with the units as an array joined (arrayJoin) and groupBitmapOr.
create or replace macro active_sets(units, start_date, end_date, grain, team_ids, agent_ids, by_team, by_agent) as table
select cover.bucket, sets.team_id, sets.agent_id, sets.users::bit as users
from (select unnest(units, recursive := true)) as cover
join (
    select * from user_sets_units
    union all
    -- the days' team × agent bitmaps are read from their files, and only when asked for
    select * from user_sets_files
    where kind = 'day' and team_id is not null and agent_id is not null
        and (team_ids is not null or by_team) and (agent_ids is not null or by_agent)
        -- Days are units only where no whole week or month covers them: at the period's two ends (the
        -- months of its first and last weeks), except for the day grain (every day) and the month grain
        -- (any day of a partial first or last month, a straddling week's included).
        and (grain = 'day' or month in (
            strftime(start_date::date, '%Y-%m'), strftime(start_date::date + 6, '%Y-%m'),
            strftime(end_date::date - 6, '%Y-%m'), strftime(end_date::date, '%Y-%m')
        ))
        and (grain in ('day', 'month') or start < start_date::date + 7 or start > end_date::date - 7)
) as sets on sets.kind = cover.kind and sets.start = cover.start
where sets.month between strftime(start_date::date, '%Y-%m') and strftime(end_date::date, '%Y-%m')
    and (sets.team_id is not null) = (team_ids is not null or by_team)
    and (sets.agent_id is not null) = (agent_ids is not null or by_agent)
    and in_scope(sets.team_id, sets.agent_id, team_ids, agent_ids)
