-- Everyone listed in the scope (as in summary.sql: activity in the scope in the period, or the directory's
-- people of its teams with access and still with the company), with their activity in the scope only: in
-- the period and ever before its end (their most used agent: most_used_agents.sql). Their current team's id
-- only if the scope has it (queries/users.py shows the others as 'Another team' and adds the directory's
-- names, emails and the order, busiest first).
with in_period as (
    select user_id, timezone($tz, ts)::date as day
    from events
    where ts >= $from_ts and ts < $to_ts
        and utc_date between $from_utc_date and $to_utc_date
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
),
per_user as (
    select
        user_id,
        count(*) as interactions,
        count(distinct day) as active_days,
        count(distinct day) filter (where isodow(day) <= 5) as active_working_days
    from in_period
    group by user_id
),
listed as (
    select user_id from per_user
    union
    select user_id
    from users
    where created_at < $to_ts
        and active
        and team_in_scope(team_id, $team_ids)
),
ever as (
    select user_id, min(ts) as first_ts, max(ts) as last_ts
    from events
    where ts < $to_ts
        and utc_date <= $to_utc_date
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
    group by user_id
)
select
    listed.user_id,
    case when team_in_scope(users.team_id, $team_ids) then users.team_id end as team_id,
    coalesce(per_user.interactions, 0) as interactions,
    coalesce(per_user.active_days, 0) as active_days,
    coalesce(per_user.active_working_days, 0) as active_working_days,
    ever.first_ts as first_active,
    ever.last_ts as last_active
from listed
left join users on users.user_id = listed.user_id
left join per_user on per_user.user_id = listed.user_id
left join ever on ever.user_id = listed.user_id
