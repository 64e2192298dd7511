-- A directory user by email, case-insensitive: at most one row (as ../directory_user_by_email.sql).
select user_id, name, email, team_id, role, created_at, active
from $database.users
where lower(email) = lower({email:String})
limit 1
