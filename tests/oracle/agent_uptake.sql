-- A new agent's uptake over the raw events (queries/sql/agent_uptake.sql): each person's first local day with
-- each agent of the scope up to $judged_end, counted per day from the agent's first day.
with firsts as (
    select agent_id, user_id, min(timezone($tz, ts)::date) as first_day
    from events
    where in_scope(team_id, agent_id, $team_ids, $agent_ids)
        and timezone($tz, ts)::date <= $judged_end
    group by agent_id, user_id
),
agents as (
    select agent_id, min(first_day) as first_day from firsts group by agent_id
),
days as (
    select agent_id, first_day, unnest(generate_series(first_day, $judged_end::date, interval 1 day))::date as day
    from agents
)
select
    days.agent_id,
    days.first_day,
    days.day,
    datediff('day', days.first_day, days.day)::integer as day_number,
    (select count(*) from firsts where firsts.agent_id = days.agent_id and firsts.first_day = days.day)::bigint
        as new_users,
    (select count(*) from firsts where firsts.agent_id = days.agent_id and firsts.first_day <= days.day)::bigint
        as users
from days
order by days.agent_id, days.day
