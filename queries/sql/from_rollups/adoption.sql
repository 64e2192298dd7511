-- Active users against the people listed in the scope, from the rollups (as ../adoption.sql): the bits of
-- who was active OR the bits of the directory's people of the scope's teams with access, and those of them
-- with no bit (never active anywhere).
with active as (
    select bit_or(users) as users
    from active_sets($start_date, $end_date, 'period', $team_ids, $agent_ids, false, false)
),
listed_by_directory as (
    select
        bitstring_agg(code, 0, user_capacity() - 1) filter (where code is not null) as coded,
        count(*) filter (where code is null) as uncoded
    from people_codes as users
    where users.created_at < $to_ts
        and users.active
        and team_in_scope(users.team_id, $team_ids)
)
select
    coalesce(bit_count(active.users), 0) as active_users,
    coalesce(
        bit_count(active.users | listed_by_directory.coded),
        bit_count(active.users),
        bit_count(listed_by_directory.coded),
        0
    ) + listed_by_directory.uncoded as users_with_access
from active, listed_by_directory
