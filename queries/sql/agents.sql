-- Every agent in the directory, by name.
select agent_id, name, owner_team_id, created_at
from agents
order by name
