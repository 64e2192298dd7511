-- Usage and cost per team, agent or user ({by}), most first (as ../interactions_by_key.sql); people from the
-- month masks per team or agent, and per person from user_month and user_day.
with sums as (
    select
        if({by:String} = 'team', team_id, toString(agent_id)) as key,
        toInt64(sum(interactions)) as interactions,
        toDecimal128(sum(cost_usd), 6) as cost_usd
    from $database.cube
    where day between {start_date:Date} and {end_date:Date}
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
        and {by:String} <> 'user'
    group by key
),
active as (
    -- an OR of the bitmaps of the period's whole months (people_months) and of its other days (people_days)
    -- (docs/clickhouse.md, "Distinct people")
    select key, toInt64(groupBitmapMerge(users)) as active_users
    from (
        select if({by:String} = 'team', team_id, toString(agent_id)) as key, users
        from $database.people_months
        where month >= {start_date:Date} and toLastDayOfMonth(month) <= {end_date:Date}
            and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
            and {by:String} <> 'user'
        union all
        select if({by:String} = 'team', team_id, toString(agent_id)) as key, users
        from $database.people_days
        where day between {start_date:Date} and {end_date:Date}
            and not (toStartOfMonth(day) >= {start_date:Date} and toLastDayOfMonth(day) <= {end_date:Date})
            and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
            and {by:String} <> 'user'
    )
    group by key
),
per_user as (
    -- the period's whole months from user_month, the days of its other months from user_day
    select user_id as key, toInt64(sum(interactions)) as interactions, toInt64(1) as active_users,
        toDecimal128(sum(cost_usd), 6) as cost_usd
    from (
        select user_id, interactions, cost_usd
        from (
            -- a person's rows over all agents when the question asks of every agent and not per agent
            select * from $database.person_month where {every_agent:Bool} and {by:String} <> 'agent'
            union all
            select * from $database.user_month where not ({every_agent:Bool} and {by:String} <> 'agent')
        )
        where month >= {start_date:Date} and toLastDayOfMonth(month) <= {end_date:Date}
            and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
            and {by:String} = 'user'
        union all
        select user_id, interactions, cost_usd
        from $database.user_day
        where day between {start_date:Date} and {end_date:Date}
            and not (toStartOfMonth(day) >= {start_date:Date} and toLastDayOfMonth(day) <= {end_date:Date})
            and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
            and {by:String} = 'user'
    )
    group by key
    having interactions > 0
),
totals as (
    select sums.key as key, sums.interactions as interactions, active.active_users as active_users, sums.cost_usd as cost_usd
    from sums
    inner join active on active.key = sums.key
    union all
    select key, interactions, active_users, cost_usd from per_user
),
labels as (
    select 'team' as kind, team_id as key, name as label from $database.teams
    union all
    select 'agent' as kind, agent_id as key, name as label from $database.agents
    union all
    select 'user' as kind, user_id as key, name as label from $database.users
)
select
    totals.key as key,
    coalesce(labels.label, totals.key) as label,
    totals.interactions as interactions,
    totals.active_users as active_users,
    totals.cost_usd as cost_usd
from totals
left join labels on labels.kind = {by:String} and labels.key = totals.key
order by totals.interactions desc, totals.key
settings join_use_nulls = 1
