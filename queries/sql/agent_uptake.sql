-- A new agent's uptake (docs/metrics.md): per agent of the scope, per local day from its first interaction in
-- the scope (`first_day`, day_number 0) up to $judged_end, how many people had used it in the scope by then
-- (`users`, cumulative) and for how many it was their first day with it (`new_users`). From the rollups (as
-- tests/oracle/agent_uptake.sql): the first instant of each person's rows per team × agent in user_totals.
with firsts as (
    select agent_id, user_id, timezone($tz, min(first_ts))::date as first_day
    from user_totals_files
    where agent_id is not null
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
    group by agent_id, user_id
    having first_day <= $judged_end::date
),
agents as (
    select agent_id, min(first_day) as first_day from firsts group by agent_id
),
new_users as (
    select agent_id, first_day as day, count(*) as new_users from firsts group by agent_id, first_day
),
days as (
    select agent_id, first_day, unnest(range(0, datediff('day', first_day, $judged_end::date) + 1)) as day_number
    from agents
)
select
    days.agent_id,
    days.first_day,
    (days.first_day + days.day_number::integer)::date as day,
    days.day_number::integer as day_number,
    coalesce(new_users.new_users, 0)::bigint as new_users,
    sum(coalesce(new_users.new_users, 0)) over (partition by days.agent_id order by days.day_number)::bigint as users
from days
left join new_users
    on new_users.agent_id = days.agent_id and new_users.day = days.first_day + days.day_number::integer
order by days.agent_id, days.day_number
