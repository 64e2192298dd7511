-- Per local day × hour × team × agent, the interactions (as data/rollups/sql/hours.sql).
select
    toDate(ts, '$tz') as day,
    toHour(ts, '$tz') as hour,
    team_id,
    agent_id,
    count() as interactions
from $database.events
group by day, hour, team_id, agent_id
