-- The agents one person used in the period, most used first (as ../user_agents.sql).
with mine as (
    select toString(agent_id) as agent_id, toInt64(sum(interactions)) as interactions,
        toDecimal128(sum(cost_usd), 6) as cost_usd, toInt64(sum(errors)) as errors
    from $database.user_day
    where day between {start_date:Date} and {end_date:Date}
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
        and user_id = {user_id:String}
    group by agent_id
)
select
    mine.agent_id as agent_id,
    coalesce(agents.name, mine.agent_id) as agent,
    mine.interactions as interactions,
    mine.cost_usd as cost_usd,
    mine.errors as errors
from mine
left join $database.agents as agents on agents.agent_id = mine.agent_id
order by mine.interactions desc, mine.agent_id
settings join_use_nulls = 1
