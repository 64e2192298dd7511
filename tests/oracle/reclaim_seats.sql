-- Seats to reclaim over the raw events (queries/sql/reclaim_seats.sql).
with last_seen as (
    select user_id, max(timezone($tz, ts)::date) as last_active
    from events
    where in_scope(team_id, agent_id, $team_ids, $agent_ids)
    group by user_id
),
managers as (
    select team_managers.team_id, string_agg(coalesce(users.name, users.user_id), ', ' order by users.name) as managers
    from team_managers
    join users on users.user_id = team_managers.user_id
    group by team_managers.team_id
)
select
    users.user_id,
    users.name,
    users.email,
    users.team_id,
    teams.name as team,
    managers.managers,
    timezone($tz, users.created_at)::date as access_since,
    last_seen.last_active,
    ($today::date - coalesce(last_seen.last_active, timezone($tz, users.created_at)::date))::integer as idle_days
from users
left join last_seen on last_seen.user_id = users.user_id
left join teams on teams.team_id = users.team_id
left join managers on managers.team_id = users.team_id
where users.active
    and team_in_scope(users.team_id, $team_ids)
    and any_team_in_scope($team_ids)
    and timezone($tz, users.created_at)::date <= $today::date - $days
    and (last_seen.last_active is null or last_seen.last_active <= $today::date - $days)
order by last_seen.last_active asc nulls first, users.name, users.user_id
