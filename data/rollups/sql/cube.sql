-- Rollup: per local day × team × agent × model, the additive measures of the period's events (day_groups.sql).
select
    day,
    team_id,
    agent_id,
    model,
    interactions,
    errors,
    input_tokens,
    output_tokens,
    cost_usd,
    latency_sum,
    latency_count
from day_groups
where grouped = 6
order by day, team_id, agent_id, model
