-- Per local day of the period: people with access so far, and how many of them had adopted by then.
-- Access as in adoption.sql: created by then, and still with the company or active in the period.
with active_in_period as (
    select distinct user_id
    from events
    where ts >= $from_ts and ts < $to_ts
        and utc_date between $from_utc_date and $to_utc_date
        and ($all_teams or list_contains($team_ids::varchar[], team_id))
        and ($all_agents or list_contains($agent_ids::varchar[], agent_id))
),
scoped_users as (
    select user_id, timezone($tz, created_at)::date as since
    from users
    where ($all_teams or list_contains($team_ids::varchar[], team_id))
        and (active or user_id in (select user_id from active_in_period))
),
firsts as (
    select events.user_id, min(timezone($tz, events.ts))::date as first_day
    from events
    join scoped_users on scoped_users.user_id = events.user_id
    where events.ts < $to_ts
        and events.utc_date <= $to_utc_date
        and ($all_teams or list_contains($team_ids::varchar[], events.team_id))
        and ($all_agents or list_contains($agent_ids::varchar[], events.agent_id))
    group by events.user_id
),
days as (
    select day::date as day
    from range($start_date::timestamp, $end_date::timestamp + interval 1 day, interval 1 day) as t(day)
)
select
    days.day,
    (select count(*) from firsts where first_day <= days.day)::bigint as adopted_users,
    (select count(*) from scoped_users where since <= days.day)::bigint as users_with_access
from days
order by days.day
