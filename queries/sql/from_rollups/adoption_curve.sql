-- Per local day of the period: the people listed in the scope who had access by then, and how many had
-- adopted by then; from the rollups (as ../adoption_curve.sql), user_month alone (its rows over all agents
-- unless the scope names agents): a person is active in the period if a day of theirs in its months is one
-- of its days (their day masks), and their first activity up to its end is in the months before its last
-- month, or in that month if a day of theirs there is not after the period's end.
with month_rows as (
    select
        user_id,
        month,
        first_ts,
        days,
        -- the period's days of this month, as a mask
        (1::bigint << (case when month = strftime($end_date, '%Y-%m') then day($end_date::date) else 31 end))
            - (1::bigint << (case when month = strftime($start_date, '%Y-%m') then day($start_date::date) else 1 end - 1))
            as period_days
    from user_month_rows($agent_ids)
    where month <= strftime($end_date, '%Y-%m')
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
),
ever as (
    select user_id, min(first_ts) as first_ts
    from month_rows
    where month < strftime($end_date, '%Y-%m') or days & ((1 << day($end_date::date)) - 1) <> 0
    group by user_id
),
listed as (
    select user_id from month_rows where month >= strftime($start_date, '%Y-%m') and days & period_days <> 0
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
