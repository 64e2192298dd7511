-- Headline numbers for a period and scope, from the rollups: one row (as tests/oracle/summary.sql). Active users
-- are the bits of the OR of the period's bitmaps; the people the scope lists are those, plus the
-- directory's people of the scope's teams with access whose bit is not set (or who have none: never
-- active anywhere).
with totals as (
    select
        coalesce(sum(interactions), 0)::bigint as interactions,
        coalesce(sum(cost_usd), 0)::decimal(38, 6) as cost_usd,
        coalesce(sum(errors), 0)::bigint as errors,
        coalesce(sum(input_tokens), 0)::decimal(38, 0) as input_tokens,
        coalesce(sum(output_tokens), 0)::decimal(38, 0) as output_tokens
    from cube
    where day between $start_date and $end_date
        and month between strftime($start_date, '%Y-%m') and strftime($end_date, '%Y-%m')
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
),
active as (
    select bit_or(users) as users
    from active_sets($period_units, $start_date, $end_date, $team_ids, $agent_ids, false, false)
),
listed_by_directory as (
    select
        count(*) as listed,
        count(*) filter (where users.code < bit_length(active.users) and get_bit(active.users, users.code) = 1)
            as listed_and_active
    from people_codes as users, active
    where users.created_at < $to_ts
        and users.active
        and team_in_scope(users.team_id, $team_ids)
)
select
    totals.interactions,
    coalesce(bit_count(active.users), 0) as active_users,
    totals.cost_usd,
    totals.errors,
    totals.input_tokens,
    totals.output_tokens,
    coalesce(bit_count(active.users), 0) + listed_by_directory.listed - listed_by_directory.listed_and_active
        as users_with_access
from totals, active, listed_by_directory
