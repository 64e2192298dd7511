-- The sets of who was active in each bucket of a period within a scope, as bitmaps: one row per bucket and
-- per team × agent, team, agent or none, as the scope and the grouping need (`by_team`, `by_agent`); a
-- question ORs them per group and counts the bits (bit_count(bit_or(users))). `units` lists the rollup
-- units that cover each bucket ({bucket, kind, start}: queries/period.py `cover`, bound as
-- $period_units or $grain_units); they may overlap, which an OR does not mind. A day's team × agent set
-- is a list of codes (`user_day_sets`: data/rollups/sql/user_sets.sql, split off in queries/db.py) and
-- becomes a bitmap here, per bucket and group, as long as the others (`sets_capacity()`, set when a
-- build's tables load). ClickHouse: a parameterised view, with the units as an array joined (arrayJoin),
-- and groupBitmapOr over groupBitmap states (lists and bitmaps alike).
create or replace macro active_sets(units, start_date, end_date, team_ids, agent_ids, by_team, by_agent) as table
with cover as (select unnest(units, recursive := true))
select cover.bucket, sets.team_id, sets.agent_id, sets.users::bit as users
from cover
join user_sets as sets on sets.kind = cover.kind and sets.start = cover.start
where sets.month between strftime(start_date::date, '%Y-%m') and strftime(end_date::date, '%Y-%m')
    and (sets.team_id is not null) = (team_ids is not null or by_team)
    and (sets.agent_id is not null) = (agent_ids is not null or by_agent)
    and in_scope(sets.team_id, sets.agent_id, team_ids, agent_ids)
union all
select bucket, team_id, agent_id, bitstring_agg(code, 0, sets_capacity() - 1) as users
from (
    select
        cover.bucket,
        case when by_team then days.team_id end as team_id,
        case when by_agent then days.agent_id end as agent_id,
        unnest(days.codes) as code
    from cover
    join user_day_sets as days on cover.kind = 'day' and days.day = cover.start
    -- only where a day's set must name both its team and its agent; elsewhere user_sets has the day
    where (team_ids is not null or by_team) and (agent_ids is not null or by_agent)
        and days.day between start_date::date and end_date::date
        and in_scope(days.team_id, days.agent_id, team_ids, agent_ids)
)
group by bucket, team_id, agent_id
