-- A new agent's uptake (as ../agent_uptake.sql): per agent of the scope, per local day from its first
-- interaction in the scope (day_number 0) up to {judged_end}, how many people had used it in the scope by then
-- (cumulative) and for how many it was their first day with it. From user_totals: a person's first local day
-- with an agent over their rows in the scope (all their teams', if they moved), one row a team × agent × person.
-- Grouped per agent and person by two 64-bit hashes of the pair (a key of fixed size: chDB groups 500,000 pairs
-- of strings several times slower; 128 bits, as uniqExact tells strings apart).
with firsts as (
    select any(agent_id) as agent, min(first_day) as day
    from $database.user_totals
    where agent_id != ''
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
    group by cityHash64(agent_id, user_id), cityHash64(user_id, agent_id)
),
new_users as materialized (
    select agent as agent_id, day, count() as new_users
    from firsts
    where day <= {judged_end:Date}
    group by agent, day
),
agents as (
    select agent_id, min(day) as first_day from new_users group by agent_id
),
days as (
    select agent_id, first_day, day_number, first_day + day_number as day
    from agents
    array join range(toUInt32(dateDiff('day', first_day, {judged_end:Date}) + 1)) as day_number
)
select
    days.agent_id as agent_id,
    days.first_day as first_day,
    days.day as day,
    toInt32(days.day_number) as day_number,
    toInt64(coalesce(new_users.new_users, 0)) as new_users,
    toInt64(sum(coalesce(new_users.new_users, 0)) over (partition by days.agent_id order by days.day_number)) as users
from days
left join new_users on new_users.agent_id = days.agent_id and new_users.day = days.day
order by agent_id, day_number
settings join_use_nulls = 1, enable_materialized_cte = 1
