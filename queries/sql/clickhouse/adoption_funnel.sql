-- The adoption funnel per agent ({by} 'agent'), or per organisation and per team together (any other {by}), a row
-- per `kind` and key (as ../adoption_funnel.sql: one statement for both, as the Adoption tab shows both, each rollup
-- read once and its rows counted for the organisation and for their team), judged on the days up to
-- {judged_end}: tried (any activity by then: user_totals' first day), active (activity from {start_date}: the month
-- masks of the period's months), habitual (active in at least 3 of the 4 weeks of 7 days that end on it), power
-- (habitual, and active on at least 12 of those 28 days). A person's 28 days are their rows' masks of {judged_end}'s
-- month and the month before, each shifted into one timeline (bit 27: {judged_end}) and ORed (a day in two teams or
-- agents is one day). People are counted per key: its directory's people, plus the active people the directory
-- does not list (not a row per key and person of the directory: 36 agents × 33,000 people at 100M events).
with judged as materialized (
    select
        kind,
        multiIf(kind = 'team', team_id, kind = 'agent', toString(agent_id), 'org') as key,
        user_id,
        max(tried) as tried,
        max(active) as active,
        groupBitOr(timeline) as timeline
    from (
        -- who had tried the key by {judged_end}: a row a person per team and agent, or per team over all agents
        select team_id, agent_id, user_id, toUInt8(1) as tried, toUInt8(0) as active, toUInt64(0) as timeline
        from $database.user_totals
        where (agent_id = '') = ({every_agent:Bool} and {by:String} <> 'agent')
            and first_day <= {judged_end:Date}
            and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
        union all
        -- who was active, and on which of the 28 days ending on {judged_end}: the months of the period and of those
        -- days
        select
            team_id,
            agent_id,
            user_id,
            toUInt8(0) as tried,
            toUInt8(bitAnd(days, month_days(month, {start_date:Date}, {judged_end:Date})) != 0) as active,
            toUInt64(bitAnd(
                multiIf(shift >= 0, bitShiftLeft(toUInt64(days), shift),
                    shift > -32, bitShiftRight(toUInt64(days), -shift), toUInt64(0)),
                268435455)) as timeline
        from (
            select team_id, agent_id, user_id, month, days,
                toInt32(dateDiff('day', {judged_end:Date} - 27, month)) as shift
            from (
                -- a person's rows over all agents when the question asks of every agent and not per agent
                select team_id, agent_id, user_id, month, days from $database.person_month
                where {every_agent:Bool} and {by:String} <> 'agent'
                union all
                select team_id, agent_id, user_id, month, days from $database.user_month
                where not ({every_agent:Bool} and {by:String} <> 'agent')
            )
            where month between least(toStartOfMonth({start_date:Date}), toStartOfMonth({judged_end:Date} - 27))
                    and {judged_end:Date}
                and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
        )
    )
    array join if({by:String} = 'agent', ['agent'], ['org', 'team']) as kind
    group by kind, key, user_id
),
directory as materialized (
    -- the people the directory lists for the scope, once per kind (not once per key: an agent's are all of them); a
    -- team's own people for a team
    select kind, user_id, if(kind = 'team', team_id, '') as team_key
    from $database.users
    array join if({by:String} = 'agent', ['agent'], ['org', 'team']) as kind
    where created_at < {to_ts:DateTime64(6, 'UTC')}
        and active
        and team_in_scope(team_id, {every_team:Bool}, {team_ids:Array(String)})
),
per_key as (
    -- a key's people in the directory are listed, and anyone active in it: the directory's count, plus the
    -- active people it does not list
    select
        judged.kind as kind,
        judged.key as key,
        countIf(judged.active and directory.user_id is null) as unlisted_active,
        countIf(judged.tried and (judged.active or directory.user_id is not null)) as tried,
        countIf(judged.active) as active,
        countIf(judged.active and (toUInt8(bitAnd(bitShiftRight(judged.timeline, 21), 127) != 0)
            + toUInt8(bitAnd(bitShiftRight(judged.timeline, 14), 127) != 0)
            + toUInt8(bitAnd(bitShiftRight(judged.timeline, 7), 127) != 0)
            + toUInt8(bitAnd(judged.timeline, 127) != 0)) >= 3) as habitual,
        countIf(judged.active and (toUInt8(bitAnd(bitShiftRight(judged.timeline, 21), 127) != 0)
            + toUInt8(bitAnd(bitShiftRight(judged.timeline, 14), 127) != 0)
            + toUInt8(bitAnd(bitShiftRight(judged.timeline, 7), 127) != 0)
            + toUInt8(bitAnd(judged.timeline, 127) != 0)) >= 3 and bitCount(judged.timeline) >= 12) as power,
        max(judged.tried) as any_tried
    from judged
    left join directory
        on directory.kind = judged.kind and directory.user_id = judged.user_id
            and directory.team_key = if(judged.kind = 'team', judged.key, '')
    group by judged.kind, judged.key
),
keys as (
    -- the keys of the scope (the organisation, its teams or agents) and any other key tried in it, with their
    -- counts: one grouping of both (the judged people read once), not a list of keys joined to the counts
    select
        kind,
        key,
        sum(unlisted_active) as unlisted_active,
        sum(tried) as tried,
        sum(active) as active,
        sum(habitual) as habitual,
        sum(power) as power
    from (
        select 'org' as kind, 'org' as key, 0 as unlisted_active, 0 as tried, 0 as active, 0 as habitual, 0 as power,
            1 as answered
        where {by:String} <> 'agent'
        union all
        select 'team', team_id, 0, 0, 0, 0, 0, 1 from $database.teams
        where {by:String} <> 'agent' and team_in_scope(team_id, {every_team:Bool}, {team_ids:Array(String)})
        union all
        select 'agent', agent_id, 0, 0, 0, 0, 0, 1 from $database.agents
        where {by:String} = 'agent' and any_team_in_scope({every_team:Bool}, {team_ids:Array(String)})
            and agent_in_scope(agent_id, {every_agent:Bool}, {agent_ids:Array(String)})
        union all
        select kind, key, unlisted_active, tried, active, habitual, power, any_tried from per_key
    )
    group by kind, key
    having max(answered) = 1
),
listed as (
    select kind, team_key, count() as people from directory group by kind, team_key
)
select
    keys.kind as kind,
    keys.key as key,
    toInt64(coalesce(listed.people, 0) + keys.unlisted_active) as with_access,
    toInt64(keys.tried) as tried,
    toInt64(keys.active) as active,
    toInt64(keys.habitual) as habitual,
    toInt64(keys.power) as power
from keys
left join listed on listed.kind = keys.kind and listed.team_key = if(keys.kind = 'team', keys.key, '')
order by kind, key
settings join_use_nulls = 1, enable_materialized_cte = 1
