-- Names of the teams and agents a scope is narrowed to, for the filter chips; only teams the scope allows.
select 'team' as kind, team_id as key, name as label
from teams
where not $all_teams and list_contains($team_ids::varchar[], team_id)
union all
select 'agent' as kind, agent_id as key, name as label
from agents
where not $all_agents and list_contains($agent_ids::varchar[], agent_id)
order by kind, key
