-- Usage and cost per person, most first (as ../interactions_by_user.sql): the period's whole months from
-- user_month (person_month when the question asks of every agent), the days of its other months from user_day.
with totals as (
    select user_id as key, toInt64(sum(interactions)) as interactions, toInt64(1) as active_users,
        toDecimal128(sum(cost_usd), 6) as cost_usd
    from (
        select user_id, interactions, cost_usd
        from (
            -- a person's rows over all agents when the question asks of every agent
            select * from $database.person_month where {every_agent:Bool}
            union all
            select * from $database.user_month where not {every_agent:Bool}
        )
        where month >= {start_date:Date} and toLastDayOfMonth(month) <= {end_date:Date}
            and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
        union all
        select user_id, interactions, cost_usd
        from $database.user_day
        where day between {start_date:Date} and {end_date:Date}
            and not (toStartOfMonth(day) >= {start_date:Date} and toLastDayOfMonth(day) <= {end_date:Date})
            and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
    )
    group by key
    having interactions > 0
)
select
    totals.key as key,
    coalesce(users.name, totals.key) as label,
    totals.interactions as interactions,
    totals.active_users as active_users,
    totals.cost_usd as cost_usd
from totals
left join $database.users as users on users.user_id = totals.key
order by totals.interactions desc, totals.key
settings join_use_nulls = 1
