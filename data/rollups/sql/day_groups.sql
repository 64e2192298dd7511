-- The period's events grouped once for the three tables aggregated from the events (cube.sql, hours.sql and
-- user_day.sql read it as `day_groups`, each its own grouping set, told apart by `grouped`): one scan of the
-- period's files and one conversion to local time per event, and no copy of the events kept meanwhile.
-- Every set gets every measure; each table takes those it keeps.
select
    grouping(hour, user_id, model) as grouped,
    day,
    hour,
    user_id,
    team_id,
    agent_id,
    model,
    count(*) as interactions,
    count(*) filter (where status = 'error') as errors,
    sum(input_tokens)::decimal(38, 0) as input_tokens,
    sum(output_tokens)::decimal(38, 0) as output_tokens,
    sum(cost_usd)::decimal(38, 6) as cost_usd,
    sum(latency_ms)::decimal(38, 0) as latency_sum,
    count(latency_ms) as latency_count,
    min(ts) as first_ts,
    max(ts) as last_ts
from (
    select local_ts::date as day, hour(local_ts)::integer as hour, *
    from (
        select timezone($tz, ts) as local_ts, *
        from events
        where ts >= $from_ts and ts < $to_ts
            and utc_date between $from_utc_date and $to_utc_date
    )
)
group by grouping sets (
    (day, team_id, agent_id, model),  -- cube: `grouped` 6 (hour and user_id not grouped)
    (day, hour, team_id, agent_id),  -- hours: 3 (user_id and model not grouped)
    (day, user_id, team_id, agent_id)  -- user_day: 5 (hour and model not grouped)
)
