-- Daily, weekly and monthly active people per local day of the period up to {judged_end}, per organisation, team or
-- agent ({by}) (as ../adoption_active_days.sql) where the keys are not each one group of active_windows and are few:
-- the organisation over several teams or agents, or over teams × agents (queries/adoption.py). The scope's
-- people_days OR-ed per day and key, then into the windows of the 28 days from each day on, as active_windows' own
-- select does (data/clickhouse/sql/rollups/active_windows.sql). Every day of every key active in the windows,
-- zeros included (`with fill`, per key).
with scope_days as (
    select
        day as active_day,
        multiIf({by:String} = 'team', team_id, {by:String} = 'agent', toString(agent_id), 'org') as active_key,
        groupBitmapMergeState(users) as people
    from $database.people_days
    where day between {window_start:Date} and {judged_end:Date}
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
    group by active_day, active_key
)
select day, key, dau, wau, mau
from (
    select
        active_day + offset as day,
        active_key as key,
        toInt64(groupBitmapMergeIf(people, offset = 0)) as dau,
        toInt64(groupBitmapMergeIf(people, offset < 7)) as wau,
        toInt64(groupBitmapMerge(people)) as mau
    from scope_days
    array join range(28) as offset
    where day between {start_date:Date} and {judged_end:Date}
    group by day, key
    order by key, day with fill from {start_date:Date} to greatest({judged_end:Date} + 1, {start_date:Date})
)
where key <> ''  -- with no key at all, the fill makes the days for an empty one
order by key, day
-- no PREWHERE: these rollups are narrow and sorted by the keys filtered on; reading the filter's columns first
-- cost more CPU than it saved (benchmarks/RESULTS.md, h24-dash)
settings optimize_move_to_prewhere = 0
