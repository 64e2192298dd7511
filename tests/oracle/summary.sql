-- Headline numbers for a period and scope: one row. `users_with_access` are the people the scope lists
-- (docs/schema.md, "Who is counted where"): anyone with activity in the scope in the period, and the
-- directory's people of the scope's teams who had access by the period's end and are still with the
-- company. The active are among them: adoption is never above 100 %.
with scoped as (
    select user_id, cost_usd, status, input_tokens, output_tokens
    from events
    where ts >= $from_ts and ts < $to_ts
        and utc_date between $from_utc_date and $to_utc_date
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
),
totals as (
    select
        count(*) as interactions,
        count(distinct user_id) as active_users,
        coalesce(sum(cost_usd), 0)::decimal(38, 6) as cost_usd,
        count(*) filter (where status = 'error') as errors,
        coalesce(sum(input_tokens), 0)::decimal(38, 0) as input_tokens,
        coalesce(sum(output_tokens), 0)::decimal(38, 0) as output_tokens
    from scoped
),
with_access as (
    select user_id from scoped
    union
    select user_id
    from users
    where created_at < $to_ts
        and active
        and team_in_scope(team_id, $team_ids)
)
select
    totals.interactions,
    totals.active_users,
    totals.cost_usd,
    totals.errors,
    totals.input_tokens,
    totals.output_tokens,
    (select count(*) from with_access) as users_with_access
from totals
