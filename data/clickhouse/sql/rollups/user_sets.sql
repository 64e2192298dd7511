-- Per local day × team × agent, who was active, as an exact set (ClickHouse's groupBitmap needs integer codes;
-- uniqExact takes the ids as they are).
select
    toDate(ts, '$tz') as day,
    team_id,
    agent_id,
    uniqExactState(user_id) as users
from $database.events
group by day, team_id, agent_id
