-- Everyone listed in the scope, with their activity in the scope (as ../user_activity.sql): in the period
-- (interactions, days with activity, working days among them) and ever up to its end (first and last instant).
-- Days from user_month's masks (ORed per person and month: a day in two teams or agents is one day);
-- interactions from user_month for the period's whole months and user_day for the days of its other months;
-- first and last instants from user_month before the end's month and user_day within it. Names, emails and the
-- order are joined in Polars (queries/users.py), as on DuckDB.
with month_masks as (
    select user_id, month, groupBitOr(days) as mask, groupBitOr(working_days) as working_mask
    from (
        -- a person's rows over all agents when the question asks of every agent and not per agent
        select * from $database.person_month where {every_agent:Bool}
        union all
        select * from $database.user_month where not ({every_agent:Bool})
    )
    where month between toStartOfMonth({start_date:Date}) and {end_date:Date}
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
    group by user_id, month
),
active as (
    select
        user_id,
        toInt64(sum(bitCount(bitAnd(mask, month_days(month, {start_date:Date}, {end_date:Date}))))) as active_days,
        toInt64(sum(bitCount(bitAnd(working_mask, month_days(month, {start_date:Date}, {end_date:Date})))))
            as active_working_days
    from month_masks
    group by user_id
    having active_days > 0
),
used as (
    select user_id, toInt64(sum(interactions)) as interactions
    from (
        select user_id, interactions
        from (
            -- a person's rows over all agents when the question asks of every agent and not per agent
            select * from $database.person_month where {every_agent:Bool}
            union all
            select * from $database.user_month where not ({every_agent:Bool})
        )
        where month >= {start_date:Date} and toLastDayOfMonth(month) <= {end_date:Date}
            and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
        union all
        select user_id, interactions
        from $database.user_day
        where day between {start_date:Date} and {end_date:Date}
            and not (toStartOfMonth(day) >= {start_date:Date} and toLastDayOfMonth(day) <= {end_date:Date})
            and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
    )
    group by user_id
),
in_period as materialized (
    select active.user_id as user_id, used.interactions as interactions, active.active_days as active_days,
        active.active_working_days as active_working_days
    from active
    inner join used on used.user_id = active.user_id
),
ever as (
    select user_id, min(first_ts) as first_ts, max(last_ts) as last_ts
    from (
        select user_id, first_ts, last_ts
        from (
            -- a person's rows over all agents when the question asks of every agent and not per agent
            select * from $database.person_month where {every_agent:Bool}
            union all
            select * from $database.user_month where not ({every_agent:Bool})
        )
        where month < toStartOfMonth({end_date:Date})
            and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
        union all
        select user_id, first_ts, last_ts
        from $database.user_day
        where day between toStartOfMonth({end_date:Date}) and {end_date:Date}
            and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
    )
    group by user_id
),
listed as (
    select user_id from in_period
    union distinct
    select user_id
    from $database.users
    where created_at < {to_ts:DateTime64(6, 'UTC')}
        and active
        and team_in_scope(team_id, {every_team:Bool}, {team_ids:Array(String)})
)
select
    listed.user_id as user_id,
    if(team_in_scope(users.team_id, {every_team:Bool}, {team_ids:Array(String)}), users.team_id, null) as team_id,
    coalesce(in_period.interactions, 0) as interactions,
    coalesce(in_period.active_days, 0) as active_days,
    coalesce(in_period.active_working_days, 0) as active_working_days,
    ever.first_ts as first_active,
    ever.last_ts as last_active
from listed
left join $database.users as users on users.user_id = listed.user_id
left join in_period on in_period.user_id = listed.user_id
left join ever on ever.user_id = listed.user_id
settings join_use_nulls = 1, enable_materialized_cte = 1
