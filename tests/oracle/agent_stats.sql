-- Usage, errors, latency, tokens and cost per agent in the period; every agent in scope listed, most used first.
with scoped as (
    select agent_id, user_id, status, latency_ms, input_tokens, output_tokens, cost_usd
    from events
    where ts >= $from_ts and ts < $to_ts
        and utc_date between $from_utc_date and $to_utc_date
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
),
totals as (
    select
        agent_id,
        count(*) as interactions,
        count(distinct user_id) as active_users,
        count(*) filter (where status = 'error') as errors,
        avg(latency_ms) as avg_latency_ms,
        sum(input_tokens)::decimal(38, 0) as input_tokens,
        sum(output_tokens)::decimal(38, 0) as output_tokens,
        sum(cost_usd)::decimal(38, 6) as cost_usd
    from scoped
    group by agent_id
),
listed as (
    -- Unused agents of the catalogue too (those existing by the period's end), unless the viewer sees no team.
    select agent_id
    from agents
    where created_at < $to_ts
        and any_team_in_scope($team_ids)
        and agent_in_scope(agent_id, $agent_ids)
    union
    select agent_id from totals
)
select
    listed.agent_id as key,
    coalesce(agents.name, listed.agent_id) as label,
    coalesce(totals.interactions, 0) as interactions,
    coalesce(totals.active_users, 0) as active_users,
    totals.interactions / nullif(totals.active_users, 0) as interactions_per_active_user,
    coalesce(totals.errors, 0) as errors,
    totals.errors / nullif(totals.interactions, 0) as error_rate,
    totals.avg_latency_ms::double as avg_latency_ms,
    coalesce(totals.input_tokens, 0) as input_tokens,
    coalesce(totals.output_tokens, 0) as output_tokens,
    coalesce(totals.cost_usd, 0)::decimal(38, 6) as cost_usd,
    coalesce(totals.interactions, 0) / nullif(sum(coalesce(totals.interactions, 0)) over (), 0) as share
from listed
left join totals on totals.agent_id = listed.agent_id
left join agents on agents.agent_id = listed.agent_id
order by interactions desc, label, key
