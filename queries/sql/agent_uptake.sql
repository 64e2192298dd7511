-- A new agent's uptake (docs/metrics.md): per agent of the scope, per local day from its first interaction in
-- the scope (`first_day`, day_number 0) up to $judged_end, how many people had used it in the scope by then
-- (`users`, cumulative) and for how many it was their first day with it (`new_users`). From the rollups (as
-- tests/oracle/agent_uptake.sql): the first local day of each person's rows per team × agent in user_totals
-- (one row per person and agent but for those who moved teams: `moved`), kept in memory (`agent_totals`).
with scoped as (
    select agent_id, code, moved, first_day
    from agent_totals
    where in_scope(team_id, agent_id, $team_ids, $agent_ids)
        and first_day <= $judged_end::date
),
new_users as (
    -- a person's one row per agent, unless they moved teams: then the first of their rows (in the scope)
    select agent_id, day, count(*) as new_users
    from (
        select agent_id, first_day as day from scoped where not moved
        union all
        select agent_id, min(first_day) as day from scoped where moved group by agent_id, code
    )
    group by agent_id, day
),
agents as (
    select agent_id, min(day) as first_day from new_users group by agent_id
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
