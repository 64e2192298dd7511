-- The fewest rollup units (whole months, whole ISO weeks, single days) that cover each bucket of a period:
-- a table macro, cover(start_date, end_date, grain), with grain 'day', 'week', 'month' or 'period' (the
-- whole period is one bucket, keyed by its first day). A unit never reaches past the period or its bucket
-- (buckets are runs of days: a unit whose first and last days share a bucket lies in it). Distinct users
-- are the OR of the covering units' bitmaps (rollup user_sets), so units may overlap: a day takes its
-- month if that is whole, else its week if that is whole, else itself. ClickHouse: a parameterised view.
-- The bucket a day is in: the first day of its day, week, month, or of the whole period ('period').
create or replace macro bucket_of(day, start_date, grain) as
    case when grain = 'period' then start_date::date
        else date_trunc(if(grain = 'period', 'day', grain), day::date)::date end;

create or replace macro cover(start_date, end_date, grain) as table
with days as (
    select
        d::date as day,
        date_trunc('month', d::date)::date as month,
        date_trunc('week', d::date)::date as week
    from range(start_date::timestamp, end_date::timestamp + interval 1 day, interval 1 day) as t(d)
),
flagged as (
    select
        day,
        month,
        week,
        bucket_of(day, start_date, grain) as bucket,
        month >= start_date::date and last_day(month) <= end_date::date
            and bucket_of(month, start_date, grain) = bucket_of(last_day(month), start_date, grain) as whole_month,
        week >= start_date::date and week + 6 <= end_date::date
            and bucket_of(week, start_date, grain) = bucket_of(week + 6, start_date, grain) as whole_week
    from days
)
select distinct
    bucket,
    case when whole_month then 'month' when whole_week then 'week' else 'day' end as kind,
    case when whole_month then month when whole_week then week else day end as start
from flagged
;
-- The bitmaps of who was active in each bucket of a period (cover) within a scope: one row per bucket and
-- per team × agent, team, agent or none, as the scope and the grouping need (`by_team`, `by_agent`); a
-- question ORs them per group and counts the bits (bit_count(bit_or(users))).
create or replace macro active_sets(start_date, end_date, grain, team_ids, agent_ids, by_team, by_agent) as table
select cover.bucket, sets.team_id, sets.agent_id, sets.users::bit as users
from cover(start_date, end_date, grain) as cover
join (
    select * from user_sets_units
    union all
    -- the days' team × agent bitmaps are read from their files, and only when asked for
    select * from user_sets_files
    where kind = 'day' and team_id is not null and agent_id is not null
        and (team_ids is not null or by_team) and (agent_ids is not null or by_agent)
        -- but for the day grain, days are units only in the partial weeks at the period's two ends
        and (grain = 'day' or month in (
            strftime(start_date::date, '%Y-%m'), strftime(start_date::date + 6, '%Y-%m'),
            strftime(end_date::date - 6, '%Y-%m'), strftime(end_date::date, '%Y-%m')
        ))
) as sets on sets.kind = cover.kind and sets.start = cover.start
where sets.month between strftime(start_date::date, '%Y-%m') and strftime(end_date::date, '%Y-%m')
    and (sets.team_id is not null) = (team_ids is not null or by_team)
    and (sets.agent_id is not null) = (agent_ids is not null or by_agent)
    and in_scope(sets.team_id, sets.agent_id, team_ids, agent_ids)
