-- Rollup: per local day × hour of day × team × agent, the period's interactions (day_groups.sql).
select
    day,
    hour,
    team_id,
    agent_id,
    interactions
from day_groups
where grouped = 3
order by day, hour, team_id, agent_id
