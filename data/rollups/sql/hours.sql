-- Rollup: per local day × hour of day × team × agent, the period's interactions (local_events.sql).
select
    day,
    hour,
    team_id,
    agent_id,
    count(*) as interactions
from local_events
group by all
order by day, hour, team_id, agent_id
