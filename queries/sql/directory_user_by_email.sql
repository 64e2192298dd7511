-- A directory user by email, case-insensitive: at most one row.
select user_id, name, email, team_id, role, created_at, active
from users
where lower(email) = lower($email)
limit 1
