-- Usage and cost per local day, week or month, every bucket listed (as ../interactions_over_time.sql). The people
-- of a bucket: an OR of the bitmaps of who was active (people_days, people_weeks, people_months).
with buckets as (
    select distinct multiIf({grain:String} = 'week', toMonday(day), {grain:String} = 'month', toStartOfMonth(day), day)
        as bucket
    from (
        select arrayJoin(arrayMap(i -> {start_date:Date} + i,
            range(toUInt32(dateDiff('day', {start_date:Date}, {end_date:Date}) + 1)))) as day
    )
),
sums as (
    select
        multiIf({grain:String} = 'week', toMonday(day), {grain:String} = 'month', toStartOfMonth(day), day) as bucket,
        toInt64(sum(interactions)) as interactions,
        toDecimal128(sum(cost_usd), 6) as cost_usd
    from $database.cube
    where day between {start_date:Date} and {end_date:Date}
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
    group by bucket
),
active as (
    -- an OR of bitmaps: at the week grain the period's whole weeks from people_weeks, at the month grain its whole
    -- months from people_months, the other days from people_days (a bucket's people: those active in its days of
    -- the period)
    select bucket, toInt64(groupBitmapMerge(users)) as active_users
    from (
        select week as bucket, users
        from $database.people_weeks
        where {grain:String} = 'week' and week >= {start_date:Date} and week + 6 <= {end_date:Date}
            and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
        union all
        select month as bucket, users
        from $database.people_months
        where {grain:String} = 'month' and month >= {start_date:Date} and toLastDayOfMonth(month) <= {end_date:Date}
            and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
        union all
        select
            multiIf({grain:String} = 'week', toMonday(day), {grain:String} = 'month', toStartOfMonth(day), day) as bucket,
            users
        from $database.people_days
        where day between {start_date:Date} and {end_date:Date}
            and not ({grain:String} = 'week' and toMonday(day) >= {start_date:Date} and toMonday(day) + 6 <= {end_date:Date})
            and not ({grain:String} = 'month' and toStartOfMonth(day) >= {start_date:Date}
                and toLastDayOfMonth(day) <= {end_date:Date})
            and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
    )
    group by bucket
)
select
    buckets.bucket as key,
    formatDateTime(buckets.bucket, '%Y-%m-%d') as label,
    coalesce(sums.interactions, 0) as interactions,
    coalesce(active.active_users, 0) as active_users,
    coalesce(sums.cost_usd, toDecimal128(0, 6)) as cost_usd
from buckets
left join sums on sums.bucket = buckets.bucket
left join active on active.bucket = buckets.bucket
order by key
-- no PREWHERE: these rollups are narrow and sorted by the keys filtered on; reading the filter's columns first
-- cost more CPU than it saved (benchmarks/RESULTS.md, h24-dash)
settings join_use_nulls = 1, optimize_move_to_prewhere = 0
