-- The adoption funnel per organisation, team or agent ({by}) (as ../adoption_funnel.sql), from user_month and the
-- directory, judged on the days up to {judged_end}: tried (any activity by then), active (activity from
-- {start_date}), habitual (active in at least 3 of the 4 weeks of 7 days that end on it), power (habitual, and
-- active on at least 12 of those 28 days). A person's days per month are the OR of their rows' masks (a day in
-- two teams or agents is one day), cut at {judged_end}; each week's days are a mask per month (month_days).
with months as (
    select
        multiIf({by:String} = 'team', team_id, {by:String} = 'agent', toString(agent_id), 'org') as key,
        user_id,
        month,
        bitAnd(groupBitOr(days), month_days(month, month, {judged_end:Date})) as mask
    from (
        -- a person's rows over all agents when the question asks of every agent and not per agent
        select * from $database.person_month where {every_agent:Bool} and {by:String} <> 'agent'
        union all
        select * from $database.user_month where not ({every_agent:Bool} and {by:String} <> 'agent')
    )
    where month <= {judged_end:Date}
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
    group by key, user_id, month
    having mask != 0
),
judged as materialized (
    select
        key,
        user_id,
        true as tried,
        max(bitAnd(mask, month_days(month, {start_date:Date}, {judged_end:Date})) != 0) as active,
        toInt64(max(bitAnd(mask, month_days(month, {judged_end:Date} - 6, {judged_end:Date})) != 0))
            + toInt64(max(bitAnd(mask, month_days(month, {judged_end:Date} - 13, {judged_end:Date} - 7)) != 0))
            + toInt64(max(bitAnd(mask, month_days(month, {judged_end:Date} - 20, {judged_end:Date} - 14)) != 0))
            + toInt64(max(bitAnd(mask, month_days(month, {judged_end:Date} - 27, {judged_end:Date} - 21)) != 0)) as weeks,
        sum(bitCount(bitAnd(mask, month_days(month, {judged_end:Date} - 27, {judged_end:Date})))) as days
    from months
    group by key, user_id
),
keys as (
    select 'org' as key where {by:String} = 'org'
    union distinct
    select team_id from $database.teams
    where {by:String} = 'team' and team_in_scope(team_id, {every_team:Bool}, {team_ids:Array(String)})
    union distinct
    select agent_id from $database.agents
    where {by:String} = 'agent' and any_team_in_scope({every_team:Bool}, {team_ids:Array(String)})
        and agent_in_scope(agent_id, {every_agent:Bool}, {agent_ids:Array(String)})
    union distinct
    select key from judged
),
with_access as (
    select user_id, team_id
    from $database.users
    where created_at < {to_ts:DateTime64(6, 'UTC')}
        and active
        and team_in_scope(team_id, {every_team:Bool}, {team_ids:Array(String)})
),
listed as (
    -- a team's own people; for the organisation or an agent, everyone the scope's teams list
    select keys.key as key, with_access.user_id as user_id
    from with_access inner join keys on keys.key = with_access.team_id
    where {by:String} = 'team'
    union distinct
    select keys.key, with_access.user_id from with_access cross join keys where {by:String} <> 'team'
    union distinct
    select key, user_id from judged where active
)
select
    keys.key as key,
    toInt64(count(listed.user_id)) as with_access,
    toInt64(countIf(judged.tried)) as tried,
    toInt64(countIf(judged.active)) as active,
    toInt64(countIf(judged.active and judged.weeks >= 3)) as habitual,
    toInt64(countIf(judged.active and judged.weeks >= 3 and judged.days >= 12)) as power
from keys
left join listed on listed.key = keys.key
left join judged on judged.key = listed.key and judged.user_id = listed.user_id
group by keys.key
order by keys.key
settings join_use_nulls = 1, enable_materialized_cte = 1
