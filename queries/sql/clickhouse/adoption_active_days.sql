-- Daily, weekly and monthly active people per local day of the period up to {judged_end}, per organisation, team or
-- agent ({by}) (as ../adoption_active_days.sql) where each key is everyone, a team or an agent (queries/adoption.py
-- `one_window_group`): the count of the OR of active_windows' rows of each day and key (the people active on the
-- day, in the 7 and in the 28 days that end on it). Every day of every key active in the windows, zeros included
-- (`with fill`, per key; none for a period that starts after {judged_end}).
select day, key, dau, wau, mau
from (
    select
        day,
        multiIf({by:String} = 'team', team_id, {by:String} = 'agent', toString(agent_id), 'org') as key,
        toInt64(groupBitmapMerge(dau)) as dau,
        toInt64(groupBitmapMerge(wau)) as wau,
        toInt64(groupBitmapMerge(mau)) as mau
    from $database.active_windows
    where day between {start_date:Date} and {judged_end:Date}
        and (team_id <> '') = (not {every_team:Bool} or {by:String} = 'team')
        and (agent_id <> '') = (not {every_agent:Bool} or {by:String} = 'agent')
        and (team_id = '' or team_in_scope(team_id, {every_team:Bool}, {team_ids:Array(String)}))
        and (agent_id = '' or agent_in_scope(agent_id, {every_agent:Bool}, {agent_ids:Array(String)}))
    group by day, key
    order by key, day with fill from {start_date:Date} to greatest({judged_end:Date} + 1, {start_date:Date})
)
where key <> ''  -- with no key at all, the fill makes the days for an empty one
order by key, day
-- no PREWHERE: these rollups are narrow and sorted by the keys filtered on; reading the filter's columns first
-- cost more CPU than it saved (benchmarks/RESULTS.md, h24-dash)
settings optimize_move_to_prewhere = 0
