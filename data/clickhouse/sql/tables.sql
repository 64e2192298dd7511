-- The events and the directory in ClickHouse (docs/clickhouse.md). `$database` is the organization's
-- database (CLICKHOUSE_DATABASE), put in from configuration by data/clickhouse/schema.py.
--
-- Events: partitioned by UTC month, ordered for the questions (team, agent, time). Deduplicated on event_id at
-- insert (data/clickhouse/load.py drops the ids a UTC day already has, as the Parquet writer does), so the
-- materialized views never count an event twice; ReplacingMergeTree, with event_id last in the key, also
-- collapses a block inserted twice whole (a retried insert) once its parts merge.
create table if not exists $database.events (
    event_id String,
    ts DateTime64(6, 'UTC'),
    user_id String,
    team_id String,
    agent_id LowCardinality(String),
    model LowCardinality(String),
    conversation_id Nullable(String),
    input_tokens Nullable(Int64),
    output_tokens Nullable(Int64),
    cost_usd Nullable(Decimal(18, 6)),
    latency_ms Nullable(Int32),
    status LowCardinality(String)
)
engine = ReplacingMergeTree
partition by toYYYYMM(ts)
order by (team_id, agent_id, ts, event_id);

-- The directory (data/schema.py DIRECTORY), one row per key, replaced whole by each load (an exchange of
-- tables: a reader sees the old directory or the new one). Small: plain MergeTree tables, joined by the questions.
create table if not exists $database.users (
    user_id String,
    name Nullable(String),
    email Nullable(String),
    team_id Nullable(String),
    role Nullable(String),
    created_at Nullable(DateTime64(6, 'UTC')),
    active Nullable(Bool)
)
engine = MergeTree
order by user_id;

create table if not exists $database.teams (team_id String, name Nullable(String))
engine = MergeTree
order by team_id;

create table if not exists $database.team_managers (user_id String, team_id String)
engine = MergeTree
order by (team_id, user_id);

create table if not exists $database.agents (
    agent_id String,
    name Nullable(String),
    owner_team_id Nullable(String),
    created_at Nullable(DateTime64(6, 'UTC'))
)
engine = MergeTree
order by agent_id;

create table if not exists $database.prices (
    model String,
    input_usd_per_mtok Nullable(Decimal(18, 6)),
    output_usd_per_mtok Nullable(Decimal(18, 6)),
    valid_from Date32,
    valid_to Nullable(Date32)
)
engine = MergeTree
order by (model, valid_from);

-- Each person's code, their number in the people bitmaps (people_days, people_weeks, people_months, whose views join
-- it): given by the one writer of the directory (import-directory, clickhouse-load) to every person it adds, before
-- the person is in `users`, so before any event of theirs can pass validation (data/clickhouse/codes.py). A row per
-- person, never changed; removed once the person is in neither `users` nor the events (an erasure). A code is never
-- given twice nor reused (the highest given: telemetry_meta's codes_given). Codes from 1.
create table if not exists $database.user_codes (user_id String, code UInt32)
engine = MergeTree
order by user_id;

-- What clickhouse-init applied: the schema's format and the zone the rollups' local days are in.
create table if not exists $database.telemetry_meta (key String, value String, at DateTime64(6, 'UTC') default now64(6))
engine = ReplacingMergeTree(at)
order by key;
