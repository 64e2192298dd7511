-- Teams the viewer may see, with their member counts, for filters and breakdowns.
select
    teams.team_id,
    teams.name,
    count(users.user_id) as members
from teams
left join users on users.team_id = teams.team_id
where team_in_scope(teams.team_id, $team_ids)
group by teams.team_id, teams.name
order by teams.name
