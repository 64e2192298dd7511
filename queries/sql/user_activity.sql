-- Everyone listed in the scope, with their activity in the scope, from the rollups (as tests/oracle/user_activity.sql;
-- the most used agent is most_used_agents.sql): user_totals alone, a person's history in a row per team
-- (per agent if the scope names agents). A period's interactions and days with activity are its running
-- totals at its last day minus the day before its first (queries/sql/macros.sql, `active_through`); the
-- first activity counts if on or before its end, the last is that of its last day with activity up to then
-- (instants: queries/users.py shows them in local time). Their team's id only if the scope has it (else
-- null); names, emails and the order (busiest first) are joined in Polars from the directory
-- (queries/users.py `people_activity`): 30,000 rows of strings cost more to hand over than to join there.
-- A person with several rows (who moved teams, or used several of the agents a scope names) adds them up,
-- and their days with activity are counted from the rows' day masks OR'ed per month: a day counts once.
with person_rows as (
    -- rows with activity up to the period's end: running totals at its end minus the day before its start
    select
        user_id,
        moved,
        coalesce(running_interactions[days_to], 0) - coalesce(running_interactions[days_from], 0) as interactions,
        days_to - days_from as active_days,
        working_days_to - working_days_from as active_working_days,
        first_ts,
        day_last_ts[days_to] as last_ts,
        days_to > days_from as active,
        month0,
        -- their day masks only where they are needed: a moved person's rows (moved_days)
        case when moved then days end as days,
        case when moved then working_days end as working_days
    from (
        select
            *,
            active_through(days, days_before, month_from, day($start_date::date - 1)) as days_from,
            active_through(days, days_before, month_to, day($end_date::date)) as days_to,
            active_through(working_days, working_days_before, month_from, day($start_date::date - 1)) as working_days_from,
            active_through(working_days, working_days_before, month_to, day($end_date::date)) as working_days_to
        from (
            select
                *,
                month_index(month0, $start_date::date - 1) as month_from,
                month_index(month0, $end_date) as month_to
            from totals_in_scope($team_ids, $agent_ids)
        )
    )
    where days_to > 0
),
moved_days as (
    -- a person with several rows (who moved teams, or used several of the agents a scope names): per month of
    -- the period, the OR of their rows' day masks cut to its days, so that a day in two rows counts once
    select
        user_id,
        sum(bit_count(days))::bigint as active_days,
        sum(bit_count(working_days))::bigint as active_working_days
    from (
        select
            user_id,
            bit_or(days[m] & period_days(m, month0, $start_date, $end_date)) as days,
            bit_or(working_days[m] & period_days(m, month0, $start_date, $end_date)) as working_days
        from (
            select
                user_id,
                month0,
                days,
                working_days,
                unnest(range(greatest(month_index(month0, $start_date), 1),
                    least(month_index(month0, $end_date), len(days)) + 1)) as m
            from person_rows
            where moved
        )
        group by user_id, m
    )
    group by user_id
),
per_user as (
    select
        user_id,
        interactions::bigint as interactions,
        active_days::bigint as active_days,
        active_working_days::bigint as active_working_days,
        first_ts,
        last_ts
    from person_rows
    where not moved
    union all
    select
        totals.user_id,
        totals.interactions,
        coalesce(moved_days.active_days, 0),
        coalesce(moved_days.active_working_days, 0),
        totals.first_ts,
        totals.last_ts
    from (
        select user_id, sum(interactions)::bigint as interactions, min(first_ts) as first_ts, max(last_ts) as last_ts
        from person_rows
        where moved
        group by user_id
    ) as totals
    left join moved_days on moved_days.user_id = totals.user_id
),
listed as (
    select user_id from per_user where active_days > 0
    union
    select user_id
    from users
    where created_at < $to_ts
        and active
        and team_in_scope(team_id, $team_ids)
)
select
    listed.user_id,
    case when team_in_scope(users.team_id, $team_ids) then users.team_id end as team_id,
    coalesce(per_user.interactions, 0) as interactions,
    coalesce(per_user.active_days, 0) as active_days,
    coalesce(per_user.active_working_days, 0) as active_working_days,
    per_user.first_ts as first_active,
    per_user.last_ts as last_active
from listed
left join users on users.user_id = listed.user_id
left join per_user on per_user.user_id = listed.user_id
