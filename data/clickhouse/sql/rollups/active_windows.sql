-- Per local day × everyone, team or agent ('' for every one), who was active on the day (dau), in the 7 (wau) and
-- in the 28 local days (mau) that end on it, from people_days' rows (the view's source: the rows each insert into
-- people_days adds): each row's people OR-ed into its three groups, then into the windows of the 28 days from its
-- day on (offset 0 the day itself, below 7 the week's).
select
    group_day + offset as day,
    group_team as team_id,
    group_agent as agent_id,
    groupBitmapMergeStateIf(people, offset = 0) as dau,
    groupBitmapMergeStateIf(people, offset < 7) as wau,
    groupBitmapMergeState(people) as mau
from (
    select day as group_day, tupleElement(grouped, 1) as group_team, tupleElement(grouped, 2) as group_agent,
        groupBitmapMergeState(users) as people
    from $database.people_days
    array join [('', ''), (team_id, ''), ('', toString(agent_id))] as grouped
    group by group_day, group_team, group_agent
)
array join range(28) as offset
group by day, team_id, agent_id
