-- Active users against the people listed in the scope, from the rollups (as ../adoption.sql): those who
-- were active, plus the directory's people of the scope's teams with access who were not (their bit is
-- not set in the active bitmap, or they have none: never active anywhere).
with active as (
    select bit_or(users) as users
    from active_sets($period_units, $start_date, $end_date, 'period', $team_ids, $agent_ids, false, false)
),
listed_by_directory as (
    select
        count(*) as listed,
        count(*) filter (where users.code < bit_length(active.users) and get_bit(active.users, users.code) = 1)
            as listed_and_active
    from people_codes as users, active
    where users.created_at < $to_ts
        and users.active
        and team_in_scope(users.team_id, $team_ids)
)
select
    coalesce(bit_count(active.users), 0) as active_users,
    coalesce(bit_count(active.users), 0) + listed_by_directory.listed - listed_by_directory.listed_and_active
        as users_with_access
from active, listed_by_directory
