-- Seats to reclaim (as ../reclaim_seats.sql): the directory's people of the scope's teams with access given at
-- least {days} days before {today} and no activity in the scope in the {days} days that end on it; their last
-- active local day (user_totals' last day in the scope; none: never), team, its managers and days idle.
with last_seen as (
    select user_id, max(last_day) as last_active
    from $database.user_totals
    where (agent_id = '') = {every_agent:Bool}
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
    group by user_id
),
managers as (
    select
        team_managers.team_id as team_id,
        arrayStringConcat(
            arrayMap(pair -> pair.2, arraySort(pair -> pair.1, groupArray((users.name, coalesce(users.name, users.user_id))))),
            ', '
        ) as managers
    from $database.team_managers as team_managers
    inner join $database.users as users on users.user_id = team_managers.user_id
    group by team_managers.team_id
)
select
    users.user_id as user_id,
    users.name as name,
    users.email as email,
    users.team_id as team_id,
    teams.name as team,
    managers.managers as managers,
    toDate(users.created_at, {tz:String}) as access_since,
    last_seen.last_active as last_active,
    toInt32(dateDiff('day', coalesce(last_seen.last_active, toDate(users.created_at, {tz:String})), {today:Date}))
        as idle_days
from $database.users as users
left join last_seen on last_seen.user_id = users.user_id
left join $database.teams as teams on teams.team_id = users.team_id
left join managers on managers.team_id = users.team_id
where users.active
    and team_in_scope(users.team_id, {every_team:Bool}, {team_ids:Array(String)})
    and any_team_in_scope({every_team:Bool}, {team_ids:Array(String)})
    and toDate(users.created_at, {tz:String}) <= {today:Date} - {days:Int64}
    and (last_seen.last_active is null or last_seen.last_active <= {today:Date} - {days:Int64})
order by last_seen.last_active asc nulls first, users.name, users.user_id
settings join_use_nulls = 1
