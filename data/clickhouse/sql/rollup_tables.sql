-- The rollups in ClickHouse: AggregatingMergeTree tables kept by materialized views over `events` (one select
-- each in rollups/<table>.sql, also used to fill them from the events when they are made or the zone changes).
-- Partitioned by local month, ordered like the events (team, agent, time). A view adds one row per key and
-- inserted block: rows are summed (sum / min / max of SimpleAggregateFunction columns, groupBitmapMerge of the
-- people's bitmaps) by every question, and merged by the engine in the background. `$tz` is ORG_TIMEZONE.
-- (user_sets and user_weeks, `uniqExact` states of the ids, were dropped by migration 5: no question read them.)
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

-- Per local month × team × agent × person (as data/rollups/sql/user_month.sql, its sums and days): usage, first
-- and last instant and local day, and the days with activity as bit masks (bit d - 1 for day d of the month;
-- `working_days`: the Mondays to Fridays among them). A period's people, active days and last day are read from
-- a person's month rows (the masks ORed per person and month, never added up: a day in two teams or agents is
-- one day), not from a row per day. Added by migration 1 (data/clickhouse/schema.py).
create table if not exists $database.user_month (
    month Date,
    team_id String,
    agent_id LowCardinality(String),
    user_id String,
    interactions SimpleAggregateFunction(sum, UInt64),
    errors SimpleAggregateFunction(sum, UInt64),
    cost_usd SimpleAggregateFunction(sum, Decimal(38, 6)),
    first_ts SimpleAggregateFunction(min, DateTime64(6, 'UTC')),
    last_ts SimpleAggregateFunction(max, DateTime64(6, 'UTC')),
    first_day SimpleAggregateFunction(min, Date),
    last_day SimpleAggregateFunction(max, Date),
    days SimpleAggregateFunction(groupBitOr, UInt32),
    working_days SimpleAggregateFunction(groupBitOr, UInt32)
)
engine = AggregatingMergeTree
partition by toYYYYMM(month)
order by (team_id, agent_id, month, user_id);

-- user_month over all agents (agent_id ''): a person's month in a team in one row, about a tenth of user_month's
-- rows, read by a question of every agent that does not ask per agent (as DuckDB's user_month rows with agent_id
-- null). Added by migration 1.
create table if not exists $database.person_month (
    month Date,
    team_id String,
    agent_id LowCardinality(String),
    user_id String,
    interactions SimpleAggregateFunction(sum, UInt64),
    errors SimpleAggregateFunction(sum, UInt64),
    cost_usd SimpleAggregateFunction(sum, Decimal(38, 6)),
    first_ts SimpleAggregateFunction(min, DateTime64(6, 'UTC')),
    last_ts SimpleAggregateFunction(max, DateTime64(6, 'UTC')),
    first_day SimpleAggregateFunction(min, Date),
    last_day SimpleAggregateFunction(max, Date),
    days SimpleAggregateFunction(groupBitOr, UInt32),
    working_days SimpleAggregateFunction(groupBitOr, UInt32)
)
engine = AggregatingMergeTree
partition by toYYYYMM(month)
order by (team_id, agent_id, month, user_id);

-- A person's whole history per team × agent, and per team over all agents (agent_id ''): their first and last
-- local day and instant with activity, one row each (about 545,000 at 100M events, against user_month's 2.1M):
-- who had tried an agent or the scope by a day, and since when (agent uptake, the funnel's "tried", cohorts, the
-- adoption curve). Kept by a view over the rows inserted into user_month (a row a person and month is enough;
-- cascaded views fire on the rows another view inserts), not partitioned (a history has no month): a purge makes
-- it again whole from user_month. Only min and max: a row counted twice changes nothing. Ordered by agent first,
-- so that the rows over all agents ('') are read apart. Added by migration 2.
create table if not exists $database.user_totals (
    agent_id LowCardinality(String),
    team_id String,
    user_id String,
    first_day SimpleAggregateFunction(min, Date),
    last_day SimpleAggregateFunction(max, Date),
    first_ts SimpleAggregateFunction(min, DateTime64(6, 'UTC')),
    last_ts SimpleAggregateFunction(max, DateTime64(6, 'UTC'))
)
engine = AggregatingMergeTree
order by (agent_id, team_id, user_id);

-- Who was active per local day × team × agent, as bitmaps of their codes (user_codes): the people of any period
-- and scope are groupBitmapMerge over its rows, an OR of bitmaps. Added by migration 4, with people_weeks (per
-- local week, cut at the local months: a week over two months has a row in each, so that the table is partitioned
-- by local month as the others are and a purge makes a month again alone) and people_months (per local month): a
-- period's whole months and weeks are merged from these, its other days from people_days.
create table if not exists $database.people_days (
    day Date,
    team_id String,
    agent_id LowCardinality(String),
    users AggregateFunction(groupBitmap, UInt32)
)
engine = AggregatingMergeTree
partition by toYYYYMM(day)
order by (team_id, agent_id, day);

create table if not exists $database.people_weeks (
    week Date,
    month Date,
    team_id String,
    agent_id LowCardinality(String),
    users AggregateFunction(groupBitmap, UInt32)
)
engine = AggregatingMergeTree
partition by toYYYYMM(month)
order by (team_id, agent_id, week, month);

create table if not exists $database.people_months (
    month Date,
    team_id String,
    agent_id LowCardinality(String),
    users AggregateFunction(groupBitmap, UInt32)
)
engine = AggregatingMergeTree
partition by toYYYYMM(month)
order by (team_id, agent_id, month);

-- Who was active per local day × everyone, a team or an agent (team_id '': every team; agent_id '': every agent;
-- never both named), on the day (dau), in the 7 (wau) and in the 28 local days (mau) that end on it, as bitmaps of
-- their codes: DuckDB's active_windows (data/rollups/windows.py) with the sets in place of their counts, so that the
-- engine keeps it. A window spans inserts, but an OR of sets does not mind: the view over the rows each insert adds
-- to people_days ORs each of them into its groups' windows of the 28 days from its day on, and a question counts
-- the OR of a day's rows (groupBitmapMerge). Rows up to 27 days after the data's last day, as DuckDB's. Added by
-- migration 6.
create table if not exists $database.active_windows (
    day Date,
    team_id String,
    agent_id LowCardinality(String),
    dau AggregateFunction(groupBitmap, UInt32),
    wau AggregateFunction(groupBitmap, UInt32),
    mau AggregateFunction(groupBitmap, UInt32)
)
engine = AggregatingMergeTree
partition by toYYYYMM(day)
order by (team_id, agent_id, day)
-- a granule of 64 rows, not 8,192: a month's rows are a few thousand bitmaps, and a question reads one group's
settings index_granularity = 64;
