-- Rollup: per local day × team × agent × model, the additive measures of the period's events (local_events.sql).
select
    day,
    team_id,
    agent_id,
    model,
    count(*) as interactions,
    count(*) filter (where status = 'error') as errors,
    sum(input_tokens)::decimal(38, 0) as input_tokens,
    sum(output_tokens)::decimal(38, 0) as output_tokens,
    sum(cost_usd)::decimal(38, 6) as cost_usd,
    sum(latency_ms)::decimal(38, 0) as latency_sum,
    count(latency_ms) as latency_count
from local_events
group by all
order by day, team_id, agent_id, model
