-- Per local week (its Monday) and local month × team × agent, who was active, as an exact set (as data/rollups/sets.py,
-- a week's days of one month in one row).
select
    toMonday(toDate(ts, '$tz')) as week,
    toStartOfMonth(toDate(ts, '$tz')) as month,
    team_id,
    agent_id,
    uniqExactState(user_id) as users
from $database.events
group by week, month, team_id, agent_id
