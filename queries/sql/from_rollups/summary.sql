-- Headline numbers for a period and scope, from the rollups: one row (as ../summary.sql).
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
users as (
    select coalesce(bit_count(bit_or(users)), 0) as active_users
    from active_sets($period_units, $start_date, $end_date, 'period', $team_ids, $agent_ids, false, false)
)
select
    totals.interactions,
    users.active_users,
    totals.cost_usd,
    totals.errors,
    totals.input_tokens,
    totals.output_tokens
from totals, users
