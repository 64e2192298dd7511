-- First and last local day with interactions in the scope (as ../data_bounds.sql); nulls when none.
select
    if(count() = 0, null, min(day)) as first_day,
    if(count() = 0, null, max(day)) as last_day
from $database.cube
where in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
