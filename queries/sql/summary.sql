-- Headline numbers for a period and scope: one row.
select
    count(*) as interactions,
    count(distinct user_id) as active_users,
    coalesce(sum(cost_usd), 0)::decimal(38, 6) as cost_usd,
    count(*) filter (where status = 'error') as errors,
    coalesce(sum(input_tokens), 0)::decimal(38, 0) as input_tokens,
    coalesce(sum(output_tokens), 0)::decimal(38, 0) as output_tokens
from events
where ts >= $from_ts and ts < $to_ts
    and utc_date between $from_utc_date and $to_utc_date
    and in_scope(team_id, agent_id, $team_ids, $agent_ids)
