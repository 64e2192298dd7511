-- Rollup: per local day × user × team × agent, the period's usage (day_groups.sql); distinct users are counted
-- from these rows (never added up), so they stay exact over any period and scope.
select
    day,
    user_id,
    team_id,
    agent_id,
    interactions,
    errors,
    cost_usd,
    first_ts,
    last_ts
from day_groups
where grouped = 5
order by day, user_id, team_id, agent_id
