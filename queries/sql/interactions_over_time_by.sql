-- Usage per local day, week or month and per agent or team ($by), top $top_n keys and 'other', from
-- the rollups (as tests/oracle/interactions_over_time_by.sql).
with buckets as (
    select distinct date_trunc($grain, day::date)::date as bucket
    from range($start_date::timestamp, $end_date::timestamp + interval 1 day, interval 1 day) as t(day)
),
scoped as (
    select
        date_trunc($grain, day)::date as bucket,
        case $by when 'team' then team_id else agent_id end as key,
        interactions,
        cost_usd
    from cube
    where day between $start_date and $end_date
        and month between strftime($start_date, '%Y-%m') and strftime($end_date, '%Y-%m')
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
),
ranked as (
    select key, row_number() over (order by sum(interactions) desc, key) as rank
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
        scoped.interactions,
        scoped.cost_usd
    from scoped
    join ranked on ranked.key = scoped.key
),
sums as (
    select bucket, key, sum(interactions)::bigint as interactions, sum(cost_usd)::decimal(38, 6) as cost_usd
    from grouped
    group by bucket, key
),
active as (
    select
        sets.bucket,
        case when ranked.rank <= $top_n then sets.key else 'other' end as key,
        bit_count(bit_or(sets.users)) as active_users
    from (
        select bucket, case $by when 'team' then team_id else agent_id end as key, users
        from active_sets($grain_units, $start_date, $end_date, $team_ids, $agent_ids, $by = 'team', $by = 'agent')
    ) as sets
    join ranked on ranked.key = sets.key
    group by all
),
totals as (
    select sums.bucket, sums.key, sums.interactions, active.active_users, sums.cost_usd
    from sums
    join active on active.bucket = sums.bucket and active.key = sums.key
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
