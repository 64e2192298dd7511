-- Rollup: per local day × user × team × agent, the period's usage (local_events.sql); distinct users are counted
-- from these rows (never added up), so they stay exact over any period and scope.
select
    day,
    user_id,
    team_id,
    agent_id,
    count(*) as interactions,
    count(*) filter (where status = 'error') as errors,
    sum(cost_usd)::decimal(38, 6) as cost_usd,
    min(ts) as first_ts,
    max(ts) as last_ts
from local_events
group by all
order by day, user_id, team_id, agent_id
