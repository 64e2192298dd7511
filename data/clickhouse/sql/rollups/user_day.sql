-- Per local day × team × agent × person, their usage and first and last instant (as data/rollups/sql/user_day.sql).
select
    toDate(ts, '$tz') as day,
    team_id,
    agent_id,
    user_id,
    count() as interactions,
    countIf(status = 'error') as errors,
    toDecimal128(sum(coalesce(cost_usd, toDecimal64(0, 6))), 6) as cost_usd,
    min(ts) as first_ts,
    max(ts) as last_ts
from $database.events
group by day, team_id, agent_id, user_id
