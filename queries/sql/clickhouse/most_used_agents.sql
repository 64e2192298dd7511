-- The agent each person used most in the period and the scope (of equals, the first agent id), by name
-- (as ../most_used_agents.sql), for the people {user_ids} (every_user: everyone).
with pairs as (
    -- the period's whole months from user_month, the days of its other months from user_day; grouped per person
    -- and agent by two 64-bit hashes of the pair (a key of fixed size: docs/clickhouse.md, "Cost rules")
    select any(user_id) as user, any(agent) as agent_id, sum(interactions) as interactions
    from (
        select user_id, toString(agent_id) as agent, interactions
        from $database.user_month
        where month >= {start_date:Date} and toLastDayOfMonth(month) <= {end_date:Date}
            and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
            and ({every_user:Bool} or has({user_ids:Array(String)}, user_id))
        union all
        select user_id, toString(agent_id) as agent, interactions
        from $database.user_day
        where day between {start_date:Date} and {end_date:Date}
            and not (toStartOfMonth(day) >= {start_date:Date} and toLastDayOfMonth(day) <= {end_date:Date})
            and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
            and ({every_user:Bool} or has({user_ids:Array(String)}, user_id))
    )
    group by cityHash64(user_id, agent), cityHash64(agent, user_id)
    having interactions > 0
),
favourite as (
    select user as user_id, argMin(agent_id, (-toInt64(interactions), agent_id)) as agent_id from pairs group by user
)
select favourite.user_id as user_id, coalesce(agents.name, favourite.agent_id) as most_used_agent
from favourite
left join $database.agents as agents on agents.agent_id = favourite.agent_id
order by favourite.user_id
settings join_use_nulls = 1
