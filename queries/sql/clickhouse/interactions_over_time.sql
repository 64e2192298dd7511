-- Usage and cost per local day, week or month, every bucket listed (as ../interactions_over_time.sql).
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
    select
        multiIf({grain:String} = 'week', toMonday(day), {grain:String} = 'month', toStartOfMonth(day), day) as bucket,
        toInt64(uniqExactMerge(users)) as active_users
    from $database.user_sets
    where day between {start_date:Date} and {end_date:Date}
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
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
settings join_use_nulls = 1
