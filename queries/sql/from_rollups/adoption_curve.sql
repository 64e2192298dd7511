-- Per local day of the period: the people listed in the scope who had access by then, and how many had
-- adopted by then; from the rollups (as ../adoption_curve.sql). First and last activity in the scope up to
-- the period's end: the months before its last month from user_month, that month's days from user_day.
with ever as (
    select user_id, min(first_ts) as first_ts, max(last_ts) as last_ts
    from (
        select user_id, first_ts, last_ts
        from user_month
        where month < strftime($end_date, '%Y-%m')
            and in_scope(team_id, agent_id, $team_ids, $agent_ids)
        union all
        select user_id, first_ts, last_ts
        from user_day
        where month = strftime($end_date, '%Y-%m')
            and day <= $end_date
            and in_scope(team_id, agent_id, $team_ids, $agent_ids)
    )
    group by user_id
),
listed as (
    -- active in the scope in the period: their last activity up to its end is in it
    select user_id from ever where last_ts >= $from_ts
    union
    select user_id
    from users
    where created_at < $to_ts
        and active
        and team_in_scope(team_id, $team_ids)
),
firsts as (
    select ever.user_id, timezone($tz, ever.first_ts)::date as first_day
    from ever
    join listed on listed.user_id = ever.user_id
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
),
-- Running counts (a correlated count per day costs a pass over every user per day).
adopted_on as (
    select greatest(first_day, $start_date::date) as day, count(*) as n from firsts group by 1
),
access_from as (
    select greatest(since, $start_date::date) as day, count(*) as n from scoped_users group by 1
)
select
    days.day,
    coalesce(sum(adopted_on.n) over (order by days.day), 0)::bigint as adopted_users,
    coalesce(sum(access_from.n) over (order by days.day), 0)::bigint as users_with_access
from days
left join adopted_on on adopted_on.day = days.day
left join access_from on access_from.day = days.day
order by days.day
