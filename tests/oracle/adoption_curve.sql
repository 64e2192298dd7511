-- Per local day of the period: the people listed in the scope (as in summary.sql) who had access by then,
-- and how many of them had adopted (their first activity in the scope) by then. Access starts when the
-- directory says, or at the first activity in the scope if that came earlier (or the directory has no
-- row): nobody counts as adopted before they count as having access.
with active_in_period as (
    select distinct user_id
    from events
    where ts >= $from_ts and ts < $to_ts
        and utc_date between $from_utc_date and $to_utc_date
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
),
listed as (
    select user_id from active_in_period
    union
    select user_id
    from users
    where created_at < $to_ts
        and active
        and team_in_scope(team_id, $team_ids)
),
firsts as (
    select events.user_id, min(timezone($tz, events.ts))::date as first_day
    from events
    join listed on listed.user_id = events.user_id
    where events.ts < $to_ts
        and events.utc_date <= $to_utc_date
        and in_scope(events.team_id, events.agent_id, $team_ids, $agent_ids)
    group by events.user_id
),
scoped_users as (
    select listed.user_id, least(timezone($tz, users.created_at)::date, firsts.first_day) as since
    from listed
    left join users on users.user_id = listed.user_id
    left join firsts on firsts.user_id = listed.user_id
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
