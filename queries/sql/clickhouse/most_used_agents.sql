-- The agent each person used most in the period and the scope (of equals, the first agent id), by name
-- (as ../most_used_agents.sql), for the people {user_ids} (every_user: everyone).
with pairs as (
    select user_id, toString(agent_id) as agent_id, sum(interactions) as interactions
    from $database.user_day
    where day between {start_date:Date} and {end_date:Date}
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
        and ({every_user:Bool} or has({user_ids:Array(String)}, user_id))
    group by user_id, agent_id
    having interactions > 0
),
favourite as (
    select user_id, argMin(agent_id, (-toInt64(interactions), agent_id)) as agent_id from pairs group by user_id
)
select favourite.user_id as user_id, coalesce(agents.name, favourite.agent_id) as most_used_agent
from favourite
left join $database.agents as agents on agents.agent_id = favourite.agent_id
order by favourite.user_id
settings join_use_nulls = 1
