-- Per local day of the period: the people listed in the scope who had access by then, and how many had adopted
-- by then (as ../adoption_curve.sql): a person's first activity in the scope from user_totals (counted if it came by
-- the period's end), and whether they were active in the period from user_month (a row's mask has a day in it).
with per_user as materialized (
    select
        user_id,
        min(first_ts) as first_ts,
        user_id in (
            select user_id
            from (
                -- a person's rows over all agents when the question asks of every agent and not per agent
                select * from $database.person_month where {every_agent:Bool}
                union all
                select * from $database.user_month where not ({every_agent:Bool})
            )
            where month between toStartOfMonth({start_date:Date}) and {end_date:Date}
                and bitAnd(days, month_days(month, {start_date:Date}, {end_date:Date})) != 0
                and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
        ) as active_in_period
    from $database.user_totals
    where (agent_id = '') = {every_agent:Bool}
        and first_day <= {end_date:Date}
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
    group by user_id
),
listed as (
    select user_id from per_user where active_in_period
    union distinct
    select user_id
    from $database.users
    where created_at < {to_ts:DateTime64(6, 'UTC')}
        and active
        and team_in_scope(team_id, {every_team:Bool}, {team_ids:Array(String)})
),
firsts as materialized (
    select per_user.user_id as user_id, toDate(per_user.first_ts, {tz:String}) as first_day
    from per_user
    inner join listed on listed.user_id = per_user.user_id
),
scoped_users as (
    -- least() passes over a null, as DuckDB's does: someone not in the directory has access from their first day
    select listed.user_id as user_id, least(toDate(users.created_at, {tz:String}), firsts.first_day) as since
    from listed
    left join $database.users as users on users.user_id = listed.user_id
    left join firsts on firsts.user_id = listed.user_id
),
days as (
    select arrayJoin(arrayMap(i -> {start_date:Date} + i,
        range(toUInt32(dateDiff('day', {start_date:Date}, {end_date:Date}) + 1)))) as day
),
adopted_on as (
    select greatest(first_day, {start_date:Date}) as day, count() as n from firsts group by day
),
access_from as (
    select greatest(since, {start_date:Date}) as day, count() as n from scoped_users group by day
)
select
    days.day as day,
    toInt64(sum(coalesce(adopted_on.n, 0)) over (order by days.day)) as adopted_users,
    toInt64(sum(coalesce(access_from.n, 0)) over (order by days.day)) as users_with_access
from days
left join adopted_on on adopted_on.day = days.day
left join access_from on access_from.day = days.day
order by days.day
settings join_use_nulls = 1, enable_materialized_cte = 1
