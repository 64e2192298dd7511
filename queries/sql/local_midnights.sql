-- The first instant of each local day from $first to $last in zone $tz, as microseconds since the epoch (UTC),
-- by DuckDB's (ICU) rules: queries/period.py `_local_midnights` says how. Not a question.
with days as (
    select unnest(generate_series($first::timestamp, $last::timestamp, interval 1 day))::date as day
),
probes as (
    select day, timezone('UTC', day::timestamp + probe) as probe_ts
    from days, unnest([interval '-1 day', interval '1 day']) as p(probe)
),
candidates as (
    select day, timezone('UTC', day::timestamp - (timezone($tz, probe_ts) - timezone('UTC', probe_ts))) as instant
    from probes
)
select day, epoch_us(coalesce(
    min(instant) filter (where timezone($tz, instant)::date >= day),
    timezone($tz, day::timestamp)
)) as first_instant
from candidates
group by day
