-- The directory's people with their bit in the sets (none: never active), made again when the directory or
-- the rollups change (queries/db.py): joined per question, 33,000 people cost 4 ms each time. Not a question.
create or replace table people_codes as
select users.user_id, users.team_id, users.created_at, users.active, codes.code
from users left join user_codes as codes on codes.user_id = users.user_id
