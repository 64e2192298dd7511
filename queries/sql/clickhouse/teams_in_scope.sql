-- Teams the viewer may see, with their member counts (as ../teams_in_scope.sql).
select teams.team_id as team_id, teams.name as name, toInt64(count(users.user_id)) as members
from $database.teams as teams
left join $database.users as users on users.team_id = teams.team_id
where team_in_scope(teams.team_id, {every_team:Bool}, {team_ids:Array(String)})
group by teams.team_id, teams.name
order by teams.name
settings join_use_nulls = 1
