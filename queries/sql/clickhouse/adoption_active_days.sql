-- Daily, weekly and monthly active people per local day of the period up to {judged_end}, per organisation, team
-- or agent ({by}) (as ../adoption_active_days.sql): each day's window (1, 7 or 28 days ending on it) merges the
-- day sets (uniqExact states) of its days, so people are counted once per window. Every day of every key active
-- in the windows, zeros included.
with windows as (
    select
        day + pair.2 as window_end,
        pair.1 as length,
        multiIf({by:String} = 'team', team_id, {by:String} = 'agent', toString(agent_id), 'org') as key,
        users
    from $database.user_sets
    array join arrayConcat(
        arrayMap(back -> (1, back), range(1)), arrayMap(back -> (7, back), range(7)), arrayMap(back -> (28, back), range(28))
    ) as pair
    where day between {window_start:Date} and {judged_end:Date}
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
        and day + pair.2 between {start_date:Date} and {judged_end:Date}
),
active as (
    select window_end as day, length, key, toInt64(uniqExactMerge(users)) as people
    from windows
    group by day, length, key
),
days as (
    select arrayJoin(arrayMap(i -> {start_date:Date} + i,
        range(toUInt32(greatest(dateDiff('day', {start_date:Date}, {judged_end:Date}) + 1, 0))))) as day
),
keys as (
    select distinct key from active where length = 28 and people > 0
)
select
    days.day as day,
    keys.key as key,
    coalesce(dau.people, 0) as dau,
    coalesce(wau.people, 0) as wau,
    coalesce(mau.people, 0) as mau
from days
cross join keys
left join (select day, key, people from active where length = 1) as dau on dau.day = days.day and dau.key = keys.key
left join (select day, key, people from active where length = 7) as wau on wau.day = days.day and wau.key = keys.key
left join (select day, key, people from active where length = 28) as mau on mau.day = days.day and mau.key = keys.key
order by keys.key, days.day
settings join_use_nulls = 1
