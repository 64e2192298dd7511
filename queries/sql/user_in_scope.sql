-- One directory user, only if their team is in the scope: at most one row.
select users.user_id, users.name, users.email, coalesce(teams.name, users.team_id) as team, users.created_at
from users
left join teams on teams.team_id = users.team_id
where users.user_id = $user_id
    and ($all_teams or list_contains($team_ids::varchar[], users.team_id))
