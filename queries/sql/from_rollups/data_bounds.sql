-- First and last local day with interactions in the scope, from the rollups: exact at once, whichever
-- partitions ../data_bounds.sql is asked to look in (a null range still answers null).
select
    case when $head_from is not null then min(day) end as first_day,
    case when $tail_from is not null then max(day) end as last_day
from cube
where ($all_teams or list_contains($team_ids::varchar[], team_id))
    and ($all_agents or list_contains($agent_ids::varchar[], agent_id))
