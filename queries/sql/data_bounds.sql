-- First and last local day with interactions in the scope ("All time", the billing periods).
select min(day) as first_day, max(day) as last_day
from cube
where in_scope(team_id, agent_id, $team_ids, $agent_ids)
