-- The agent each person used most in the period and the scope (of equals, the first agent id), by name, from
-- the rollups (as tests/oracle/most_used_agents.sql): user_totals' rows per agent, each the running interactions at
-- the period's last day minus the day before its first (queries/sql/macros.sql); a person who moved teams
-- adds up their rows per agent. For the people $user_ids (null: everyone): the Users tab asks for the rows
-- it shows (found by their codes: a scan of integers, then only their rows' lists read).
with pair_rows as (
    select
        user_id,
        agent_id,
        moved,
        coalesce(running_interactions[active_through(days, days_before, month_index(month0, $end_date), day($end_date::date))], 0)
            - coalesce(running_interactions[
                active_through(days, days_before, month_index(month0, $start_date::date - 1), day($start_date::date - 1))
            ], 0) as interactions
    from agent_totals
    where in_scope(team_id, agent_id, $team_ids, $agent_ids)
        and ($user_ids::varchar[] is null
            or code in (select code from user_totals where list_contains($user_ids::varchar[], user_id)))
),
pairs as (
    select user_id, agent_id, interactions from pair_rows where not moved and interactions > 0
    union all
    select user_id, agent_id, sum(interactions) from pair_rows where moved group by user_id, agent_id
    having sum(interactions) > 0
),
top as (
    select user_id, arg_min(agent_id, (-interactions, agent_id)) as agent_id from pairs group by user_id
)
select top.user_id, coalesce(agents.name, top.agent_id) as most_used_agent
from top
left join agents on agents.agent_id = top.agent_id
order by top.user_id
