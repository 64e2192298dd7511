-- Active users against the people who had access by the end of the period, from the rollups (as ../adoption.sql).
with active_in_period as (
    select user_id from idx_active_users
),
with_access as (
    select user_id
    from users
    where created_at < $to_ts
        and ($all_teams or list_contains($team_ids::varchar[], team_id))
        and (active or user_id in (select user_id from active_in_period))
)
select
    (select count(*) from active_in_period) as active_users,
    (select count(*) from with_access) as users_with_access
