-- First and last local day with interactions in the scope.
select timezone($tz, min(ts))::date as first_day, timezone($tz, max(ts))::date as last_day
from events
where in_scope(team_id, agent_id, $team_ids, $agent_ids)
