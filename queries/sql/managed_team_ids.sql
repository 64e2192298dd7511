-- The teams a directory user manages.
select team_managers.team_id
from team_managers
join users on users.user_id = team_managers.user_id
where users.user_id = $user_id
order by team_managers.team_id
