-- Seats to reclaim (docs/metrics.md): the directory's people of the scope's teams with access (still with the
-- company, access given at least $days days before $today) and no activity in the scope in the $days days that
-- end on $today: their last active local day (none: never), team, the team's managers and days without
-- activity. From the rollups (as tests/oracle/reclaim_seats.sql): user_totals' last local day per person.
with last_seen as (
    select user_id, max(last_day) as last_active
    from totals_in_scope($team_ids, $agent_ids)
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
