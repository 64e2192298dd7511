-- Everyone listed in the scope, with their activity in the scope, from the rollups (as ../user_activity.sql):
-- the period's whole local months from user_month, its other days (in its first and last month only)
-- from user_day. A person's active days are the bits of the OR of their day masks per month (a day with
-- two teams or agents counts once), summed over the months; their first and last activity ever are over
-- the months before the period's last month and that month's days up to its end.
with period_rows as (
    select user_id, agent_id, month, interactions, days, working_days
    from user_month
    where month between $first_whole_month and $last_whole_month
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
    union all
    select
        user_id,
        agent_id,
        month,
        interactions,
        (1 << (day(day) - 1))::integer as days,
        (case when isodow(day) <= 5 then 1 << (day(day) - 1) else 0 end)::integer as working_days
    from user_day
    where day between $start_date and $end_date
        and month in (strftime($start_date, '%Y-%m'), strftime($end_date, '%Y-%m'))
        and month not between $first_whole_month and $last_whole_month
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
),
per_month as (
    select user_id, sum(interactions) as interactions, bit_or(days) as days, bit_or(working_days) as working_days
    from period_rows
    group by user_id, month
),
per_user as (
    select
        user_id,
        sum(interactions)::bigint as interactions,
        sum(bit_count(days))::bigint as active_days,
        sum(bit_count(working_days))::bigint as active_working_days
    from per_month
    group by user_id
),
per_agent as (
    select user_id, agent_id, sum(interactions) as interactions
    from period_rows
    group by user_id, agent_id
),
top_agent as (
    -- most interactions; of equals, the first agent id
    select user_id, arg_min(agent_id, (-interactions, agent_id)) as agent_id
    from per_agent
    group by user_id
),
ever as (
    select user_id, min(first_ts) as first_ts, max(last_ts) as last_ts
    from (
        select user_id, first_ts, last_ts
        from user_month
        where month < strftime($end_date, '%Y-%m')
            and in_scope(team_id, agent_id, $team_ids, $agent_ids)
        union all
        select user_id, first_ts, last_ts
        from user_day
        where month = strftime($end_date, '%Y-%m')
            and day <= $end_date
            and in_scope(team_id, agent_id, $team_ids, $agent_ids)
    )
    group by user_id
),
listed as (
    select user_id from per_user
    union
    select user_id
    from users
    where created_at < $to_ts
        and active
        and team_in_scope(team_id, $team_ids)
),
scoped_users as (
    select
        listed.user_id,
        users.name,
        users.email,
        users.team_id,
        coalesce(team_in_scope(users.team_id, $team_ids), false) as team_in_scope,
        users.created_at,
        users.active
    from listed
    left join users on users.user_id = listed.user_id
)
select
    scoped_users.user_id,
    scoped_users.name,
    scoped_users.email,
    case when scoped_users.team_in_scope then scoped_users.team_id end as team_id,
    case
        when scoped_users.team_id is null then null
        when scoped_users.team_in_scope then coalesce(teams.name, scoped_users.team_id)
        else 'Another team'
    end as team,
    scoped_users.created_at,
    scoped_users.active,
    coalesce(per_user.interactions, 0) as interactions,
    coalesce(per_user.active_days, 0) as active_days,
    coalesce(per_user.active_working_days, 0) as active_working_days,
    timezone($tz, ever.first_ts) as first_active,
    timezone($tz, ever.last_ts) as last_active,
    coalesce(agents.name, top_agent.agent_id) as most_used_agent
from scoped_users
left join teams on teams.team_id = scoped_users.team_id
left join per_user on per_user.user_id = scoped_users.user_id
left join ever on ever.user_id = scoped_users.user_id
left join top_agent on top_agent.user_id = scoped_users.user_id
left join agents on agents.agent_id = top_agent.agent_id
-- busiest first, then by name
order by interactions desc, scoped_users.name asc nulls last, scoped_users.user_id asc
