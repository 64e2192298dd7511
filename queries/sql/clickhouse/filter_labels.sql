-- Names of the teams and agents a scope is narrowed to, for the filter chips (as ../filter_labels.sql).
select kind, key, label
from (
    select 'team' as kind, team_id as key, name as label
    from $database.teams
    where not {every_team:Bool} and team_in_scope(team_id, {every_team:Bool}, {team_ids:Array(String)})
    union all
    select 'agent' as kind, agent_id as key, name as label
    from $database.agents
    where not {every_agent:Bool} and agent_in_scope(agent_id, {every_agent:Bool}, {agent_ids:Array(String)})
)
order by kind, key
