-- The events of one period with their local day and hour of day in $tz, read once for the three tables
-- aggregated from the events (cube.sql, hours.sql, user_day.sql read it as `local_events`): one scan of the
-- month's files and one conversion to local time per event, not one per table.
select
    local_ts::date as day,
    hour(local_ts)::integer as hour,
    user_id,
    team_id,
    agent_id,
    model,
    status,
    input_tokens,
    output_tokens,
    cost_usd,
    latency_ms,
    ts
from (
    select timezone($tz, ts) as local_ts, *
    from events
    where ts >= $from_ts and ts < $to_ts
        and utc_date between $from_utc_date and $to_utc_date
)
