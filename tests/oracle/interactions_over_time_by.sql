-- Usage per local day, week or month and per agent or team ($by): the top $top_n keys of the period
-- by interactions, the rest as 'other'. Every bucket of the period is listed for every key.
with buckets as (
    select distinct date_trunc($grain, day::date)::date as bucket
    from range($start_date::timestamp, $end_date::timestamp + interval 1 day, interval 1 day) as t(day)
),
scoped as (
    select
        date_trunc($grain, timezone($tz, ts)::date)::date as bucket,
        case $by when 'team' then team_id else agent_id end as key,
        user_id,
        cost_usd
    from events
    where ts >= $from_ts and ts < $to_ts
        and utc_date between $from_utc_date and $to_utc_date
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
),
ranked as (
    select key, row_number() over (order by count(*) desc, key) as rank
    from scoped
    group by key
),
series as (
    select distinct
        case when rank <= $top_n then key else 'other' end as key,
        least(rank, $top_n + 1) as rank
    from ranked
),
grouped as (
    select
        scoped.bucket,
        case when ranked.rank <= $top_n then scoped.key else 'other' end as key,
        scoped.user_id,
        scoped.cost_usd
    from scoped
    join ranked on ranked.key = scoped.key
),
totals as (
    select
        bucket,
        key,
        count(*) as interactions,
        count(distinct user_id) as active_users,
        sum(cost_usd)::decimal(38, 6) as cost_usd
    from grouped
    group by bucket, key
),
labels as (
    select 'team' as kind, team_id as key, name as label from teams
    union all
    select 'agent' as kind, agent_id as key, name as label from agents
)
select
    buckets.bucket,
    strftime(buckets.bucket, '%Y-%m-%d') as bucket_label,
    series.key,
    case when series.key = 'other' and series.rank > $top_n then 'Other'
        else coalesce(labels.label, series.key) end as label,
    series.rank,
    coalesce(totals.interactions, 0) as interactions,
    coalesce(totals.active_users, 0) as active_users,
    coalesce(totals.cost_usd, 0)::decimal(38, 6) as cost_usd
from buckets
cross join series
left join totals on totals.bucket = buckets.bucket and totals.key = series.key
left join labels on labels.kind = $by and labels.key = series.key
order by buckets.bucket, series.rank
