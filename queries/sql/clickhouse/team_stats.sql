-- Usage, adoption and cost per team in the period, every team in scope listed (as ../team_stats.sql). A team's
-- members: those active in it (the people bitmaps) or listed in it by the directory (with access by the period's
-- end).
with sums as (
    select team_id, toInt64(sum(interactions)) as interactions, toDecimal128(sum(cost_usd), 6) as cost_usd
    from $database.cube
    where day between {start_date:Date} and {end_date:Date}
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
    group by team_id
),
people as materialized (
    -- who was active in each team: an OR of the bitmaps of the period's whole months (people_months) and of its
    -- other days (people_days) (docs/clickhouse.md, "Distinct people")
    select team_id, groupBitmapMergeState(users) as users
    from (
        select team_id, users
        from $database.people_months
        where month >= {start_date:Date} and toLastDayOfMonth(month) <= {end_date:Date}
            and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
        union all
        select team_id, users
        from $database.people_days
        where day between {start_date:Date} and {end_date:Date}
            and not (toStartOfMonth(day) >= {start_date:Date} and toLastDayOfMonth(day) <= {end_date:Date})
            and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
    )
    group by team_id
),
totals as materialized (
    select sums.team_id as team_id, sums.interactions as interactions,
        toInt64(bitmapCardinality(people.users)) as active_users, sums.cost_usd as cost_usd
    from sums
    inner join people on people.team_id = sums.team_id
),
directory as (
    -- the directory's people of each team with access by the period's end, with their code (none: never active)
    select assumeNotNull(users.team_id) as team_id, codes.code as code
    from $database.users as users
    left join $database.user_codes as codes on codes.user_id = users.user_id
    where users.created_at < {to_ts:DateTime64(6, 'UTC')}
        and users.active
        and users.team_id is not null
        and team_in_scope(users.team_id, {every_team:Bool}, {team_ids:Array(String)})
),
members as materialized (
    -- a team's members: those active in it or listed in it by the directory (an OR of bitmaps), and those listed
    -- who have no code
    select team_id, toInt64(sum(n)) as members
    from (
        select team_id, groupBitmapMerge(users) as n
        from (
            select team_id, users from people
            union all
            select team_id, groupBitmapState(assumeNotNull(code)) as users
            from directory
            where code is not null
            group by team_id
        )
        group by team_id
        union all
        select team_id, count() as n from directory where code is null group by team_id
    )
    group by team_id
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
