-- A new agent's uptake (as ../agent_uptake.sql): per agent of the scope, per local day from its first
-- interaction in the scope (day_number 0) up to {judged_end}, how many people had used it in the scope by then
-- (cumulative) and for how many it was their first day with it. From user_totals: a person's first local day
-- with an agent over their rows in the scope (all their teams', if they moved), one row a team × agent × person;
-- a row after {judged_end} is not read (a person's first day by then is the least of their rows by then).
-- Grouped per agent and person by two 64-bit hashes of the pair (a key of fixed size: chDB groups 500,000 pairs
-- of strings several times slower; 128 bits, as uniqExact tells strings apart). The days with no new person are
-- filled in per agent by `with fill`, their count carried on (`interpolate`): no list of days joined to the counts.
with firsts as (
    select any(agent_id) as agent, min(first_day) as day
    from $database.user_totals
    where agent_id != ''
        and first_day <= {judged_end:Date}
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
    group by cityHash64(agent_id, user_id), cityHash64(user_id, agent_id)
)
select
    agent_id,
    first_day,
    day,
    toInt32(day - first_day) as day_number,
    toInt64(new_users) as new_users,
    toInt64(users) as users
from (
    select
        agent as agent_id,
        min(day) over (partition by agent) as first_day,
        day,
        count() as new_users,
        sum(count()) over (partition by agent order by day) as users
    from firsts
    group by agent, day
    -- every day of each agent (the sorting prefix) from its first up to {judged_end}
    order by agent_id, day with fill to {judged_end:Date} + 1 step 1
    interpolate (first_day as first_day, users as users)
)
order by agent_id, day_number
settings use_with_fill_by_sorting_prefix = 1
