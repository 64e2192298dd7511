-- Usage, adoption and cost per team in the period, every team in scope listed (as ../team_stats.sql). A team's
-- members: those active in it (user_month: a row whose mask has a day of the period) or listed in it by the
-- directory (with access by the period's end).
with sums as (
    select team_id, toInt64(sum(interactions)) as interactions, toDecimal128(sum(cost_usd), 6) as cost_usd
    from $database.cube
    where day between {start_date:Date} and {end_date:Date}
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
    group by team_id
),
people as (
    -- the ids of rows whose masks have a day of the period
    -- people as the 128-bit hashes of their ids, numbers (docs/clickhouse.md, "Cost rules")
    select team_id, toInt64(uniqExact(reinterpretAsUInt128(murmurHash3_128(user_id)))) as active_users
    from (
        -- a person's rows over all agents when the question asks of every agent and not per agent
        select * from $database.person_month where {every_agent:Bool}
        union all
        select * from $database.user_month where not ({every_agent:Bool})
    )
    where month between toStartOfMonth({start_date:Date}) and {end_date:Date}
        and bitAnd(days, month_days(month, {start_date:Date}, {end_date:Date})) != 0
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
    group by team_id
),
totals as materialized (
    select sums.team_id as team_id, sums.interactions as interactions, people.active_users as active_users,
        sums.cost_usd as cost_usd
    from sums
    inner join people on people.team_id = sums.team_id
),
member_rows as (
    select distinct team_id, user_id
    from (
        -- a person's rows over all agents when the question asks of every agent and not per agent
        select * from $database.person_month where {every_agent:Bool}
        union all
        select * from $database.user_month where not ({every_agent:Bool})
    )
    where month between toStartOfMonth({start_date:Date}) and {end_date:Date}
        and bitAnd(days, month_days(month, {start_date:Date}, {end_date:Date})) != 0
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
    union distinct
    select assumeNotNull(team_id), user_id
    from $database.users
    where created_at < {to_ts:DateTime64(6, 'UTC')}
        and active
        and team_id is not null
        and team_in_scope(team_id, {every_team:Bool}, {team_ids:Array(String)})
),
members as materialized (
    select team_id, toInt64(count()) as members from member_rows group by team_id
),
listed as (
    select team_id from $database.teams where team_in_scope(team_id, {every_team:Bool}, {team_ids:Array(String)})
    union distinct
    select team_id from totals
    union distinct
    select team_id from members
)
select
    listed.team_id as key,
    coalesce(teams.name, listed.team_id) as label,
    coalesce(members.members, 0) as members,
    coalesce(totals.active_users, 0) as active_users,
    coalesce(totals.active_users, 0) / nullIf(members.members, 0) as adoption,
    coalesce(totals.interactions, 0) as interactions,
    coalesce(totals.interactions, 0) / nullIf(sum(coalesce(totals.interactions, 0)) over (), 0) as share,
    coalesce(totals.interactions, 0) / nullIf(members.members, 0) as interactions_per_member,
    coalesce(totals.cost_usd, toDecimal128(0, 6)) as cost_usd
from listed
left join totals on totals.team_id = listed.team_id
left join members on members.team_id = listed.team_id
left join $database.teams as teams on teams.team_id = listed.team_id
order by interactions desc, label, key
settings join_use_nulls = 1, enable_materialized_cte = 1
