-- The teams a directory user manages (as ../managed_team_ids.sql).
select team_managers.team_id as team_id
from $database.team_managers as team_managers
inner join $database.users as users on users.user_id = team_managers.user_id
where users.user_id = {user_id:String}
order by team_managers.team_id
