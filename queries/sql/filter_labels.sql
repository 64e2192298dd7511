-- Names of the teams and agents a scope is narrowed to, for the filter chips; only teams the scope allows.
select 'team' as kind, team_id as key, name as label
from teams
where $team_ids is not null and team_in_scope(team_id, $team_ids)
union all
select 'agent' as kind, agent_id as key, name as label
from agents
where $agent_ids is not null and agent_in_scope(agent_id, $agent_ids)
order by kind, key
