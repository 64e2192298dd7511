-- Everyone in the scope who had access in the period, with or without interactions, from the rollups
-- (as ../user_activity.sql).
with per_user as (
    select user_id, interactions, active_days, active_working_days, top_agent_id from idx_per_user
),
scoped_users as (
    select user_id, name, email, team_id, created_at, active
    from users
    where ($all_teams or list_contains($team_ids::varchar[], team_id))
        and created_at < $to_ts
        and (active or user_id in (select user_id from per_user))
),
ever as (
    select user_id, first_ts, last_ts from idx_ever
)
select
    scoped_users.user_id,
    scoped_users.name,
    scoped_users.email,
    scoped_users.team_id,
    coalesce(teams.name, scoped_users.team_id) as team,
    scoped_users.created_at,
    scoped_users.active,
    coalesce(per_user.interactions, 0) as interactions,
    coalesce(per_user.active_days, 0) as active_days,
    coalesce(per_user.active_working_days, 0) as active_working_days,
    ever.first_ts as first_active,  -- an instant: queries/users.py shows it in local time
    ever.last_ts as last_active,
    coalesce(agents.name, per_user.top_agent_id) as most_used_agent
from scoped_users
left join teams on teams.team_id = scoped_users.team_id
left join per_user on per_user.user_id = scoped_users.user_id
left join ever on ever.user_id = scoped_users.user_id
left join agents on agents.agent_id = per_user.top_agent_id
