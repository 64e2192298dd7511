-- Per team × agent × person, and per team × person over all agents (agent_id ''), their first and last local day
-- and instant, from user_month's rows (the view's source: the rows each insert into user_month adds).
select
    agent_id,
    team_id,
    user_id,
    min(first_day) as first_day,
    max(last_day) as last_day,
    min(first_ts) as first_ts,
    max(last_ts) as last_ts
from (
    select arrayJoin([toString(agent), '']) as agent_id, team_id, user_id, first_day, last_day, first_ts, last_ts
    from (
        select agent_id as agent, team_id, user_id, first_day, last_day, first_ts, last_ts
        from $database.user_month
    )
)
group by agent_id, team_id, user_id
