-- Names of the teams and agents a scope is narrowed to, for the filter chips; only teams the scope allows.
select 'team' as kind, team_id as key, name as label
from teams
where not $all_teams and team_id in (select unnest($team_ids::varchar[]))
union all
select 'agent' as kind, agent_id as key, name as label
from agents
where not $all_agents and agent_id in (select unnest($agent_ids::varchar[]))
order by kind, key
