-- Usage per local day, week or month and per agent or team ({by}), top {top_n} keys and 'other'
-- (as ../interactions_over_time_by.sql). People per bucket: an OR of the bitmaps of who was active, per week
-- (people_weeks) or month (people_months) for the period's whole weeks or months, per day (people_days) otherwise.
with buckets as (
    select distinct multiIf({grain:String} = 'week', toMonday(day), {grain:String} = 'month', toStartOfMonth(day), day)
        as bucket
    from (
        select arrayJoin(arrayMap(i -> {start_date:Date} + i,
            range(toUInt32(dateDiff('day', {start_date:Date}, {end_date:Date}) + 1)))) as day
    )
),
scoped as materialized (
    select
        multiIf({grain:String} = 'week', toMonday(day), {grain:String} = 'month', toStartOfMonth(day), day) as bucket,
        if({by:String} = 'team', team_id, toString(agent_id)) as key,
        interactions,
        cost_usd
    from $database.cube
    where day between {start_date:Date} and {end_date:Date}
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
),
ranked as materialized (
    select key, toInt64(row_number() over (order by total desc, key)) as rank
    from (select key, sum(interactions) as total from scoped group by key)
),
series as (
    select distinct
        if(rank <= {top_n:Int64}, key, 'other') as key,
        least(rank, {top_n:Int64} + 1) as rank
    from ranked
),
sums as (
    select
        scoped.bucket as bucket,
        if(ranked.rank <= {top_n:Int64}, scoped.key, 'other') as key,
        toInt64(sum(scoped.interactions)) as interactions,
        toDecimal128(sum(scoped.cost_usd), 6) as cost_usd
    from scoped
    inner join ranked on ranked.key = scoped.key
    group by bucket, key
),
people as (
    select
        sets.bucket as bucket,
        if(ranked.rank <= {top_n:Int64}, sets.key, 'other') as key,
        toInt64(groupBitmapMerge(sets.users)) as active_users
    from (
        -- an OR of bitmaps: at the week grain the period's whole weeks from people_weeks, at the month grain its
        -- whole months from people_months, the other days from people_days
        select week as bucket, if({by:String} = 'team', team_id, toString(agent_id)) as key, users
        from $database.people_weeks
        where {grain:String} = 'week' and week >= {start_date:Date} and week + 6 <= {end_date:Date}
            and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
        union all
        select month as bucket, if({by:String} = 'team', team_id, toString(agent_id)) as key, users
        from $database.people_months
        where {grain:String} = 'month' and month >= {start_date:Date} and toLastDayOfMonth(month) <= {end_date:Date}
            and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
        union all
        select
            multiIf({grain:String} = 'week', toMonday(day), {grain:String} = 'month', toStartOfMonth(day), day) as bucket,
            if({by:String} = 'team', team_id, toString(agent_id)) as key,
            users
        from $database.people_days
        where day between {start_date:Date} and {end_date:Date}
            and not ({grain:String} = 'week' and toMonday(day) >= {start_date:Date} and toMonday(day) + 6 <= {end_date:Date})
            and not ({grain:String} = 'month' and toStartOfMonth(day) >= {start_date:Date}
                and toLastDayOfMonth(day) <= {end_date:Date})
            and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
    ) as sets
    inner join ranked on ranked.key = sets.key
    group by bucket, key
),
totals as (
    select sums.bucket as bucket, sums.key as key, sums.interactions as interactions, people.active_users as active_users,
        sums.cost_usd as cost_usd
    from sums
    inner join people on people.bucket = sums.bucket and people.key = sums.key
),
labels as (
    select 'team' as kind, team_id as key, name as label from $database.teams
    union all
    select 'agent' as kind, agent_id as key, name as label from $database.agents
)
select
    buckets.bucket as bucket,
    formatDateTime(buckets.bucket, '%Y-%m-%d') as bucket_label,
    series.key as key,
    if(series.key = 'other' and series.rank > {top_n:Int64}, 'Other', coalesce(labels.label, series.key)) as label,
    series.rank as rank,
    coalesce(totals.interactions, 0) as interactions,
    coalesce(totals.active_users, 0) as active_users,
    coalesce(totals.cost_usd, toDecimal128(0, 6)) as cost_usd
from buckets
cross join series
left join totals on totals.bucket = buckets.bucket and totals.key = series.key
left join labels on labels.kind = {by:String} and labels.key = series.key
order by buckets.bucket, series.rank
settings join_use_nulls = 1, enable_materialized_cte = 1
