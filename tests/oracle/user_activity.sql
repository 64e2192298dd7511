-- Everyone listed in the scope (as in summary.sql: activity in the scope in the period, or the directory's
-- people of its teams with access and still with the company), with their activity in the scope only: in
-- the period and ever before its end (their most used agent: most_used_agents.sql). A person whose current
-- team is outside the scope shows as 'Another team', its id hidden. Busiest first, then by name (missing
-- names last), as the Users tab lists them.
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
scoped_users as (
    select
        listed.user_id,
        users.name,
        users.email,
        users.team_id,
        coalesce(team_in_scope(users.team_id, $team_ids), false) as team_in_scope,
        users.created_at,
        users.active
    from listed
    left join users on users.user_id = listed.user_id
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
    scoped_users.user_id,
    scoped_users.name,
    scoped_users.email,
    case when scoped_users.team_in_scope then scoped_users.team_id end as team_id,
    case
        when scoped_users.team_id is null then null
        when scoped_users.team_in_scope then coalesce(teams.name, scoped_users.team_id)
        else 'Another team'
    end as team,
    scoped_users.created_at,
    scoped_users.active,
    coalesce(per_user.interactions, 0) as interactions,
    coalesce(per_user.active_days, 0) as active_days,
    coalesce(per_user.active_working_days, 0) as active_working_days,
    ever.first_ts as first_active,
    ever.last_ts as last_active
from scoped_users
left join teams on teams.team_id = scoped_users.team_id
left join per_user on per_user.user_id = scoped_users.user_id
left join ever on ever.user_id = scoped_users.user_id
-- busiest first, then by name
order by interactions desc, scoped_users.name asc nulls last, scoped_users.user_id asc
