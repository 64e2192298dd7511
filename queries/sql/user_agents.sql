-- The agents one user used in the period, most used first, from the rollups (as tests/oracle/user_agents.sql).
with mine as (
    select agent_id, sum(interactions)::bigint as interactions, sum(cost_usd)::decimal(38, 6) as cost_usd,
        sum(errors)::bigint as errors
    from user_day
    where day between $start_date and $end_date
        and month between strftime($start_date, '%Y-%m') and strftime($end_date, '%Y-%m')
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
        and user_id = $user_id
    group by agent_id
)
select
    mine.agent_id,
    coalesce(agents.name, mine.agent_id) as agent,
    mine.interactions,
    mine.cost_usd,
    mine.errors
from mine
left join agents on agents.agent_id = mine.agent_id
order by mine.interactions desc, mine.agent_id
