-- Per local day of the period: the people listed in the scope who had access by then, and how many had
-- adopted by then; from the rollups (as ../adoption_curve.sql), user_month alone (its rows over all agents
-- unless the scope names agents): a person is active in the period if a day of theirs in its months is one
-- of its days (their day masks), and their first activity up to its end is in the months before its last
-- month, or in that month if a day of theirs there is not after the period's end.
with per_user as (
    -- one pass over the person's months up to the period's end
    select
        user_id,
        min(first_ts) filter (
            where month < strftime($end_date, '%Y-%m') or days & ((1 << day($end_date::date)) - 1) <> 0
        ) as first_ts,
        -- a day of theirs is one of the period's (the period's days of the month, as a mask)
        bool_or(
            month >= strftime($start_date, '%Y-%m')
            and days & ((1::bigint << last_day_in(month, $end_date)) - (1::bigint << (first_day_in(month, $start_date) - 1))) <> 0
        ) as active_in_period
    from user_month_rows($agent_ids)
    where month <= strftime($end_date, '%Y-%m')
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
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
