-- Usage and cost per local day, week or month, every bucket listed, from the rollups
-- (as tests/oracle/interactions_over_time.sql).
with buckets as (
    select distinct date_trunc($grain, day::date)::date as bucket
    from range($start_date::timestamp, $end_date::timestamp + interval 1 day, interval 1 day) as t(day)
),
sums as (
    select
        date_trunc($grain, day)::date as bucket,
        sum(interactions)::bigint as interactions,
        sum(cost_usd)::decimal(38, 6) as cost_usd
    from cube
    where day between $start_date and $end_date
        and month between strftime($start_date, '%Y-%m') and strftime($end_date, '%Y-%m')
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
    group by bucket
),
active as (
    select bucket, bit_count(bit_or(users)) as active_users
    from active_sets($grain_units, $start_date, $end_date, $team_ids, $agent_ids, false, false)
    group by bucket
),
totals as (
    select sums.bucket, sums.interactions, active.active_users, sums.cost_usd
    from sums
    join active on active.bucket = sums.bucket
)
select
    buckets.bucket as key,
    strftime(buckets.bucket, '%Y-%m-%d') as label,
    coalesce(totals.interactions, 0) as interactions,
    coalesce(totals.active_users, 0) as active_users,
    coalesce(totals.cost_usd, 0)::decimal(38, 6) as cost_usd
from buckets
left join totals on totals.bucket = buckets.bucket
order by key
