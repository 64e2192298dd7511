-- Everyone listed in the scope, with their activity in the scope, from the rollups (as ../user_activity.sql),
-- user_month alone: each month row answers for the period's days in its month (its running interactions
-- through the last of them minus through the day before the first; queries/sql/macros.sql), and gives the
-- person's days in the period (their day masks per month, cut to the period's days: a day with two teams or
-- agents counts once) and the first and last activity. Its rows over all agents unless the scope names
-- agents; its rows per agent for the most used agent.
with month_rows as (
    select
        user_id,
        month,
        first_ts,
        last_ts,
        days,
        working_days,
        running_interactions,
        day_last_ts,
        first_day_in(month, $start_date) as first_day,
        last_day_in(month, $end_date) as last_day
    from user_month_rows($agent_ids)
    where month <= strftime($end_date, '%Y-%m')
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
),
per_month as (
    select
        user_id,
        sum(
            through_day(running_interactions, days, last_day) - through_day(running_interactions, days, first_day - 1)
        ) as interactions,
        -- the period's days of this month, as a mask
        bit_or(days & ((1::bigint << last_day) - (1::bigint << (first_day - 1)))) as days,
        bit_or(working_days & ((1::bigint << last_day) - (1::bigint << (first_day - 1)))) as working_days
    from month_rows
    where month >= strftime($start_date, '%Y-%m')
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
    having sum(bit_count(days)) > 0
),
per_agent as (
    -- keyed by the person's and the agent's codes (one integer, the order user_agent_month's rows are in, kept
    -- by reading them in one pass): the period's whole months from their sums, its first and last month from
    -- their running sums
    select
        person_agent,
        sum(
            case
                when month_number between month_number($first_whole_month) and month_number($last_whole_month)
                then interactions
                else through_day(
                    running_interactions,
                    days,
                    case when month_number = month_number(strftime($end_date, '%Y-%m')) then day($end_date::date) else 31 end
                ) - through_day(
                    running_interactions,
                    days,
                    case when month_number = month_number(strftime($start_date, '%Y-%m')) then day($start_date::date) else 1 end
                        - 1
                )
            end
        )::bigint as interactions
    from user_agent_month
    where month_number between month_number(strftime($start_date, '%Y-%m')) and month_number(strftime($end_date, '%Y-%m'))
        and team_in_scope(team_id, $team_ids)
        and ($agent_ids::varchar[] is null
            or list_contains((select list(agent) from agent_codes where agent_in_scope(agent_id, $agent_ids)), agent))
    group by person_agent
),
top_agent as (
    -- most interactions in the period; of equals, the first agent id (the codes follow the ids' order): the
    -- largest of interactions shifted left 16 bits, or'ed with 65535 minus the agent's code
    select codes.user_id, agent_codes.agent_id
    from (
        select person_agent >> 16 as code, max((interactions << 16) | (65535 - (person_agent & 65535))) as top
        from per_agent
        where interactions > 0
        group by code
    ) as top
    join user_codes as codes on codes.code = top.code
    join agent_codes on agent_codes.agent = 65535 - (top.top & 65535)
),
ever as (
    -- the last month's first instant counts if a day up to the period's end had activity; its last instant
    -- if none after, else the last instant of its last day up to the end
    select user_id, min(first_ts) as first_ts, max(last_ts) as last_ts
    from (
        select
            user_id,
            case
                when month < strftime($end_date, '%Y-%m') or days & ((1 << day($end_date::date)) - 1) <> 0
                then first_ts
            end as first_ts,
            case
                when month < strftime($end_date, '%Y-%m') or days < (1::bigint << day($end_date::date))
                then last_ts
                else day_last_ts[days_through(days, day($end_date::date))]
            end as last_ts
        from month_rows
    )
    group by user_id
    having min(first_ts) is not null
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
