-- Active users against the people listed in the scope, from the rollups (as ../adoption.sql): the bits of
-- who was active, and the directory's people of the scope's teams with access whose bit is not among them.
with active as (
    select bit_or(users) as users
    from active_sets($start_date, $end_date, 'period', $team_ids, $agent_ids, false, false)
),
listed_by_directory as (
    select count(*) as people
    from users
    left join user_codes as codes on codes.user_id = users.user_id
    cross join active
    where users.created_at < $to_ts
        and users.active
        and team_in_scope(users.team_id, $team_ids)
        and (codes.code is null or active.users is null or get_bit(active.users, codes.code) = 0)
)
select
    coalesce(bit_count(active.users), 0) as active_users,
    coalesce(bit_count(active.users), 0) + listed_by_directory.people as users_with_access
from active, listed_by_directory
