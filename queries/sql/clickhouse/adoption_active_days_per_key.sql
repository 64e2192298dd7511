-- Daily, weekly and monthly active people per local day of the period up to {judged_end}, per team or agent ({by})
-- where the keys are not each one group of active_windows (a manager's teams by agent, a team by agent, a few agents
-- by team: queries/adoption.py; as ../adoption_active_days_per_key.sql), from the people's active days (user_month's
-- masks, ORed per person and month), each person counted once per window. A window of 7 or 28 days ending in month T reaches back at most
-- into the month before (a month has 28 days or more), so a person's days of T and of T - 1, side by side in one
-- 64-bit timeline (day 1 of T at bit 31, the last day of T - 1 at bit 30), say for each day of T whether they were
-- active on it, in the 7 and in the 28 days that end on it: a bit, or any bit of the 7 or 28 below it. The people
-- of a day are those bits added up over the persons of the key (`sumForEach`, one array slot per day of the
-- month): one row a person and month, no row a day, no sets merged. Every day of every key active in the
-- windows, zeros included.
with person_months as materialized (
    -- per key, person and month of the period: their days with activity in it and in the month before, cut to the
    -- windows' days (a row of month M is M's days for M and the days before for M + 1)
    select
        multiIf({by:String} = 'team', team_id, {by:String} = 'agent', toString(agent_id), 'org') as key,
        user_id,
        tupleElement(spread, 1) as target,
        groupBitOr(tupleElement(spread, 2)) as days,
        groupBitOr(tupleElement(spread, 3)) as before
    from (
        select team_id, agent_id, user_id, month, bitAnd(days, month_days(month, {window_start:Date}, {judged_end:Date})) as mask
        from (
            -- a person's rows over all agents when the question asks of every agent and not per agent
            select * from $database.person_month where {every_agent:Bool} and {by:String} <> 'agent'
            union all
            select * from $database.user_month where not ({every_agent:Bool} and {by:String} <> 'agent')
        )
        where month between toStartOfMonth({window_start:Date}) and {judged_end:Date}
            and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
    )
    array join [(month, mask, toUInt32(0)), (month + toIntervalMonth(1), toUInt32(0), mask)] as spread
    where mask != 0
    group by key, user_id, target
    having target between toStartOfMonth({start_date:Date}) and {judged_end:Date}
),
counts as (
    -- per key and month, the people of each of its days (array slot n: day n)
    select
        key,
        target,
        sumForEach(arrayMap(i -> toUInt64(bitTest(timeline, 31 + i)), range(31))) as dau,
        sumForEach(arrayMap(i -> toUInt64(bitAnd(bitShiftRight(timeline, 25 + i), 127) != 0), range(31))) as wau,
        sumForEach(arrayMap(i -> toUInt64(bitAnd(bitShiftRight(timeline, 4 + i), 268435455) != 0), range(31))) as mau
    from (
        select
            key,
            target,
            bitOr(bitShiftLeft(toUInt64(days), 31),
                bitShiftLeft(toUInt64(before), 31 - toDayOfMonth(target - toIntervalDay(1)))) as timeline
        from person_months
    )
    group by key, target
),
per_day as (
    select key, target + toIntervalDay(n - 1) as day, dau, wau, mau
    from counts
    array join dau, wau, mau, arrayEnumerate(dau) as n
    where n <= toDayOfMonth(toLastDayOfMonth(target))
),
keys as (
    select distinct key from person_months
),
days as (
    select arrayJoin(arrayMap(i -> {start_date:Date} + i,
        range(toUInt32(greatest(dateDiff('day', {start_date:Date}, {judged_end:Date}) + 1, 0))))) as day
)
select
    days.day as day,
    keys.key as key,
    toInt64(coalesce(per_day.dau, 0)) as dau,
    toInt64(coalesce(per_day.wau, 0)) as wau,
    toInt64(coalesce(per_day.mau, 0)) as mau
from keys
cross join days
left join per_day on per_day.key = keys.key and per_day.day = days.day
order by key, day
settings join_use_nulls = 1, enable_materialized_cte = 1
