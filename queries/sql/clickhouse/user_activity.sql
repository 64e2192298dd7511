-- Everyone listed in the scope, with their activity in the scope (as ../user_activity.sql), from user_day: in
-- the period (interactions, days with activity, working days among them) and ever up to its end (first and
-- last instant). Names, emails and the order are joined in Polars (queries/users.py), as on DuckDB.
with in_period as (
    select
        user_id,
        toInt64(sum(interactions)) as interactions,
        toInt64(uniqExact(day)) as active_days,
        toInt64(uniqExactIf(day, toDayOfWeek(day) <= 5)) as active_working_days
    from $database.user_day
    where day between {start_date:Date} and {end_date:Date}
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
    group by user_id
),
ever as (
    select user_id, min(first_ts) as first_ts, max(last_ts) as last_ts
    from $database.user_day
    where day <= {end_date:Date}
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
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
settings join_use_nulls = 1
