-- The rollups in ClickHouse: AggregatingMergeTree tables kept by materialized views over `events` (one select
-- each in rollups/<table>.sql, also used to fill them from the events when they are made or the zone changes).
-- Partitioned by local month, ordered like the events (team, agent, time). A view adds one row per key and
-- inserted block: rows are summed (sum / min / max of SimpleAggregateFunction columns, uniqExactMerge of the
-- people's states) by every question, and merged by the engine in the background. `$tz` is ORG_TIMEZONE.
create table if not exists $database.cube (
    day Date,
    team_id String,
    agent_id LowCardinality(String),
    model LowCardinality(String),
    interactions SimpleAggregateFunction(sum, UInt64),
    errors SimpleAggregateFunction(sum, UInt64),
    input_tokens SimpleAggregateFunction(sum, Int64),
    output_tokens SimpleAggregateFunction(sum, Int64),
    cost_usd SimpleAggregateFunction(sum, Decimal(38, 6)),
    latency_sum SimpleAggregateFunction(sum, Int64),
    latency_count SimpleAggregateFunction(sum, UInt64)
)
engine = AggregatingMergeTree
partition by toYYYYMM(day)
order by (team_id, agent_id, day, model);

create table if not exists $database.hours (
    day Date,
    hour UInt8,
    team_id String,
    agent_id LowCardinality(String),
    interactions SimpleAggregateFunction(sum, UInt64)
)
engine = AggregatingMergeTree
partition by toYYYYMM(day)
order by (team_id, agent_id, day, hour);

create table if not exists $database.user_day (
    day Date,
    team_id String,
    agent_id LowCardinality(String),
    user_id String,
    interactions SimpleAggregateFunction(sum, UInt64),
    errors SimpleAggregateFunction(sum, UInt64),
    cost_usd SimpleAggregateFunction(sum, Decimal(38, 6)),
    first_ts SimpleAggregateFunction(min, DateTime64(6, 'UTC')),
    last_ts SimpleAggregateFunction(max, DateTime64(6, 'UTC'))
)
engine = AggregatingMergeTree
partition by toYYYYMM(day)
order by (team_id, agent_id, day, user_id);

-- Who was active per local day × team × agent, as exact sets (uniqExact states): the people of any period and
-- scope are uniqExactMerge over its days' rows, never a sum of counts.
create table if not exists $database.user_sets (
    day Date,
    team_id String,
    agent_id LowCardinality(String),
    users AggregateFunction(uniqExact, String)
)
engine = AggregatingMergeTree
partition by toYYYYMM(day)
order by (team_id, agent_id, day);
