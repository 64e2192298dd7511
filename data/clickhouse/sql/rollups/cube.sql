-- Per local day × team × agent × model, the additive measures (as data/rollups/sql/cube.sql).
select
    toDate(ts, '$tz') as day,
    team_id,
    agent_id,
    model,
    count() as interactions,
    countIf(status = 'error') as errors,
    toInt64(sum(coalesce(input_tokens, 0))) as input_tokens,
    toInt64(sum(coalesce(output_tokens, 0))) as output_tokens,
    toDecimal128(sum(coalesce(cost_usd, toDecimal64(0, 6))), 6) as cost_usd,
    toInt64(sum(coalesce(latency_ms, 0))) as latency_sum,
    count(latency_ms) as latency_count
from $database.events
group by day, team_id, agent_id, model
