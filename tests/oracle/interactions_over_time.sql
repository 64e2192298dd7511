-- Usage and cost per local day, week (ISO, from Monday) or month, every bucket of the period listed.
with buckets as (
    select distinct date_trunc($grain, day::date)::date as bucket
    from range($start_date::timestamp, $end_date::timestamp + interval 1 day, interval 1 day) as t(day)
),
scoped as (
    select date_trunc($grain, timezone($tz, ts)::date)::date as bucket, user_id, cost_usd
    from events
    where ts >= $from_ts and ts < $to_ts
        and utc_date between $from_utc_date and $to_utc_date
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
),
totals as (
    select
        bucket,
        count(*) as interactions,
        count(distinct user_id) as active_users,
        sum(cost_usd)::decimal(38, 6) as cost_usd
    from scoped
    group by bucket
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
