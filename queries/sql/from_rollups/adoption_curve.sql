-- Per local day of the period: people with access so far, and how many had adopted by then; from the
-- rollups (as ../adoption_curve.sql).
with active_in_period as (
    select user_id from idx_active_users
),
scoped_users as (
    select user_id, timezone($tz, created_at)::date as since
    from users
    where ($all_teams or list_contains($team_ids::varchar[], team_id))
        and (active or user_id in (select user_id from active_in_period))
),
firsts as (
    select idx_firsts.user_id, idx_firsts.first_day
    from idx_firsts
    join scoped_users on scoped_users.user_id = idx_firsts.user_id
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
