-- Active users against the people listed in the scope (docs/schema.md, "Who is counted where"): anyone
-- with activity in the scope in the period, and the directory's people of the scope's teams who had access
-- by the period's end and are still with the company. The active are among them: never above 100 %.
with active_in_period as (
    select distinct user_id
    from events
    where ts >= $from_ts and ts < $to_ts
        and utc_date between $from_utc_date and $to_utc_date
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
),
with_access as (
    select user_id from active_in_period
    union
    select user_id
    from users
    where created_at < $to_ts
        and active
        and team_in_scope(team_id, $team_ids)
)
select
    (select count(*) from active_in_period) as active_users,
    (select count(*) from with_access) as users_with_access
