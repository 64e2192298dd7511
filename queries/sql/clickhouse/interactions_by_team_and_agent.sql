-- Usage and cost per team and per agent (`kind`), most first within each (as ../interactions_by_team_and_agent.sql):
-- both in one statement, each table read once (chDB's cost is per statement and table read as much as per row);
-- people from an OR of the people bitmaps per team and per agent.
with sums as (
    select
        kind,
        if(kind = 'team', team_id, toString(agent_id)) as key,
        toInt64(sum(interactions)) as interactions,
        toDecimal128(sum(cost_usd), 6) as cost_usd
    from $database.cube
    array join ['team', 'agent'] as kind
    where day between {start_date:Date} and {end_date:Date}
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
    group by kind, key
),
active as (
    -- an OR of the bitmaps of the period's whole months (people_months) and of its other days (people_days)
    -- (docs/clickhouse.md, "Distinct people"), each row counted for its team and for its agent
    select kind, if(kind = 'team', team_id, toString(agent_id)) as key, toInt64(groupBitmapMerge(users)) as active_users
    from (
        select team_id, agent_id, users
        from $database.people_months
        where month >= {start_date:Date} and toLastDayOfMonth(month) <= {end_date:Date}
            and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
        union all
        select team_id, agent_id, users
        from $database.people_days
        where day between {start_date:Date} and {end_date:Date}
            and not (toStartOfMonth(day) >= {start_date:Date} and toLastDayOfMonth(day) <= {end_date:Date})
            and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
    )
    array join ['team', 'agent'] as kind
    group by kind, key
),
labels as (
    select 'team' as kind, team_id as key, name as label from $database.teams
    union all
    select 'agent' as kind, agent_id as key, name as label from $database.agents
)
select
    sums.kind as kind,
    sums.key as key,
    coalesce(labels.label, sums.key) as label,
    sums.interactions as interactions,
    active.active_users as active_users,
    sums.cost_usd as cost_usd
from sums
inner join active on active.kind = sums.kind and active.key = sums.key
left join labels on labels.kind = sums.kind and labels.key = sums.key
order by kind, interactions desc, key
-- no PREWHERE: these rollups are narrow and sorted by the keys filtered on; reading the filter's columns first
-- cost more CPU than it saved (benchmarks/RESULTS.md, h24-dash)
settings join_use_nulls = 1, optimize_move_to_prewhere = 0
