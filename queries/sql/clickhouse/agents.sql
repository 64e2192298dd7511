-- Every agent in the directory, by name (as ../agents.sql).
select agent_id, name, owner_team_id, created_at
from $database.agents
order by name
