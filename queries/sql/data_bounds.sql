-- First and last local day with interactions in the scope, for "All time".
select
    timezone($tz, min(ts))::date as first_day,
    timezone($tz, max(ts))::date as last_day
from events
where ($all_teams or team_id in (select unnest($team_ids::varchar[])))
    and ($all_agents or agent_id in (select unnest($agent_ids::varchar[])))
