-- Per local day of the period: the people listed in the scope who had access by then, and how many had
-- adopted by then; from the rollups (as tests/oracle/adoption_curve.sql), user_totals alone (a person's history in a
-- row per team, per agent if the scope names agents): a person is active in the period if they have more
-- days with activity by its end than by the day before its start, and their first activity counts if they
-- had any by its end (queries/sql/macros.sql, `active_through`).
with per_row as (
    select
        user_id,
        first_ts,
        active_through(days, days_before, month_index(month0, $start_date::date - 1), day($start_date::date - 1))
            as days_from,
        active_through(days, days_before, month_index(month0, $end_date), day($end_date::date)) as days_to
    from totals_in_scope($team_ids, $agent_ids)
),
per_user as (
    select user_id, min(first_ts) filter (where days_to > 0) as first_ts, bool_or(days_to > days_from) as active_in_period
    from per_row
    group by user_id
),
listed as (
    select user_id from per_user where active_in_period
    union
    select user_id
    from users
    where created_at < $to_ts
        and active
        and team_in_scope(team_id, $team_ids)
),
firsts as (
    select per_user.user_id, timezone($tz, per_user.first_ts)::date as first_day
    from per_user
    join listed on listed.user_id = per_user.user_id
    where per_user.first_ts is not null
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
