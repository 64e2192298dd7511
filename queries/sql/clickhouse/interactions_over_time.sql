-- Usage and cost per local day, week or month, every bucket listed (as ../interactions_over_time.sql). The people
-- of a bucket from user_month's day masks (as adoption_active_days.sql counts its windows), not from day sets.
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
person_months as (
    -- per person and month, their days with activity in the period (user_month's masks, ORed per person and month:
    -- a day in two teams or agents is one day) and those of the month before (a week's 7 days, read on its Sunday,
    -- reach back into it): a row of month M is M's days for M and the days before for M + 1
    select
        user_id,
        tupleElement(spread, 1) as target,
        groupBitOr(tupleElement(spread, 2)) as days,
        groupBitOr(tupleElement(spread, 3)) as before
    from (
        select user_id, month, bitAnd(days, month_days(month, {start_date:Date}, {end_date:Date})) as mask
        from (
            -- a person's rows over all agents when the question asks of every agent and not per agent
            select * from $database.person_month where {every_agent:Bool}
            union all
            select * from $database.user_month where not ({every_agent:Bool})
        )
        where month between toStartOfMonth({start_date:Date}) and {end_date:Date}
            and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
    )
    array join [(month, mask, toUInt32(0)), (month + toIntervalMonth(1), toUInt32(0), mask)] as spread
    where mask != 0
    group by user_id, target
    having target <= {end_date:Date} + 6
),
people as materialized (
    -- per month: the people active on each of its days (slot n: day n), or in the 7 days that end on it for weeks
    -- (the person's two months side by side in one timeline, day 1 of the month at bit 31), added up over the
    -- persons; and the people active in the month
    select
        target,
        sumForEach(arrayMap(i -> toUInt64(bitAnd(bitShiftRight(timeline, 32 + i - width), bitShiftLeft(toUInt64(1), width) - 1) != 0),
            range(31))) as by_day,
        countIf(days != 0) as in_month
    from (
        select
            target,
            days,
            if({grain:String} = 'week', 7, 1) as width,
            bitOr(bitShiftLeft(toUInt64(days), 31),
                bitShiftLeft(toUInt64(before), 31 - toDayOfMonth(target - toIntervalDay(1)))) as timeline
        from person_months
    )
    group by target
),
active as (
    -- a day's people; a week's: those of the 7 days that end on its Sunday; a month's: those active in it
    select multiIf({grain:String} = 'week', toMonday(day), day) as bucket, toInt64(people) as active_users
    from (
        select target + toIntervalDay(n - 1) as day, people
        from people
        array join by_day as people, arrayEnumerate(by_day) as n
        where n <= toDayOfMonth(toLastDayOfMonth(target))
    )
    where ({grain:String} = 'day' and day between {start_date:Date} and {end_date:Date})
        or ({grain:String} = 'week' and toDayOfWeek(day) = 7 and day between {start_date:Date} and {end_date:Date} + 6)
    union all
    select target as bucket, toInt64(in_month) as active_users
    from people
    where {grain:String} = 'month' and target <= {end_date:Date}
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
settings join_use_nulls = 1, enable_materialized_cte = 1
