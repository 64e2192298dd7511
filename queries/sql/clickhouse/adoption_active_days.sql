-- Daily, weekly and monthly active people per local day of the period up to {judged_end}, per organisation, team or
-- agent ({by}) (as ../adoption_active_days.sql), from the people's active days (user_month's masks, ORed per person
-- and month), each person counted once per window. A person active on day d is in the windows of L days (1, 7, 28)
-- that end on d .. d + L - 1; over a person's active days those runs of window ends join, so each run adds 1 where
-- it starts and takes 1 back the day after it ends (a day whose previous active day is L or more days before starts
-- a run; one whose next is L or more days after ends one). The people of a window are the running sum of those
-- steps up to its last day: one pass over the person-days, no sets merged. Every day of every key active in the
-- windows, zeros included.
with person_months as (
    select
        multiIf({by:String} = 'team', team_id, {by:String} = 'agent', toString(agent_id), 'org') as key,
        user_id,
        month,
        bitAnd(groupBitOr(days), month_days(month, {window_start:Date}, {judged_end:Date})) as mask
    from (
        -- a person's rows over all agents when the question asks of every agent and not per agent
        select * from $database.person_month where {every_agent:Bool} and {by:String} <> 'agent'
        union all
        select * from $database.user_month where not ({every_agent:Bool} and {by:String} <> 'agent')
    )
    where month between toStartOfMonth({window_start:Date}) and {judged_end:Date}
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
    group by key, user_id, month
    having mask != 0
),
person_days as (
    -- each day of a person's mask (bit d - 1: day d of the month)
    select key, user_id, month + toIntervalDay(bit) as day
    from person_months
    array join arrayFilter(i -> bitTest(mask, i), range(31)) as bit
),
gaps as (
    select
        key,
        day,
        dateDiff('day', lagInFrame(toNullable(day)) over person, day) as since,
        dateDiff('day', day, leadInFrame(toNullable(day)) over person) as until
    from person_days
    window person as (partition by key, user_id order by day rows between unbounded preceding and unbounded following)
),
steps as (
    select key, length, tupleElement(step, 1) as day, tupleElement(step, 2) as delta
    from (
        select
            key,
            length,
            arrayJoin(arrayConcat(
                if(since is null or since >= length, [(day, toInt32(1))], []),
                if(until is null or until >= length, [(day + length, toInt32(-1))], [])
            )) as step
        from gaps
        array join [1, 7, 28] as length
    )
    union all
    -- every day of the period for every key, so that each has its running sum (a step of 0)
    select key, length, day, toInt32(0) as delta
    from (select distinct key from person_days) as keys
    cross join (
        select arrayJoin(arrayMap(i -> {start_date:Date} + i,
            range(toUInt32(greatest(dateDiff('day', {start_date:Date}, {judged_end:Date}) + 1, 0))))) as day
    ) as days
    array join [1, 7, 28] as length
),
counts as (
    select
        key,
        length,
        day,
        sum(sum(delta)) over (partition by key, length order by day rows between unbounded preceding and current row) as people
    from steps
    group by key, length, day
)
select
    day,
    key,
    toInt64(sumIf(people, length = 1)) as dau,
    toInt64(sumIf(people, length = 7)) as wau,
    toInt64(sumIf(people, length = 28)) as mau
from counts
where day between {start_date:Date} and {judged_end:Date}
group by day, key
order by key, day
settings join_use_nulls = 1
