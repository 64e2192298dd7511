-- First and last local day with interactions in the scope, from the rollups: exact at once, whichever
-- partitions ../data_bounds.sql is asked to look in (a null range still answers null).
select
    case when $head_from is not null then min(day) end as first_day,
    case when $tail_from is not null then max(day) end as last_day
from cube
where in_scope(team_id, agent_id, $team_ids, $agent_ids)
