-- Usage and cost per person, most first, from the rollups (as tests/oracle/interactions_by_user.sql):
-- their rows of user_totals in the scope, each the running sums at the period's last day minus the day before
-- its first (queries/sql/macros.sql, `active_through`).
with user_rows as (
    select
        user_id,
        coalesce(running_interactions[days_to], 0) - coalesce(running_interactions[days_from], 0) as interactions,
        coalesce(running_cost_usd[days_to], 0) - coalesce(running_cost_usd[days_from], 0) as cost_usd
    from (
        select
            *,
            active_through(days, days_before, month_index(month0, $start_date::date - 1), day($start_date::date - 1))
                as days_from,
            active_through(days, days_before, month_index(month0, $end_date), day($end_date::date)) as days_to
        from totals_in_scope($team_ids, $agent_ids)
    )
),
totals as (
    select user_id as key, sum(interactions)::bigint as interactions, 1::bigint as active_users,
        sum(cost_usd)::decimal(38, 6) as cost_usd
    from user_rows
    group by user_id
    having sum(interactions) > 0
)
select
    totals.key,
    coalesce(users.name, totals.key) as label,
    totals.interactions,
    totals.active_users,
    totals.cost_usd
from totals
left join users on users.user_id = totals.key
order by totals.interactions desc, totals.key
