-- Usage, errors, latency, tokens and cost per agent, from the rollups (as tests/oracle/agent_stats.sql).
with sums as (
    select
        agent_id,
        sum(interactions)::bigint as interactions,
        sum(errors)::bigint as errors,
        sum(latency_sum) / nullif(sum(latency_count), 0) as avg_latency_ms,
        sum(input_tokens)::decimal(38, 0) as input_tokens,
        sum(output_tokens)::decimal(38, 0) as output_tokens,
        sum(cost_usd)::decimal(38, 6) as cost_usd
    from cube
    where day between $start_date and $end_date
        and month between strftime($start_date, '%Y-%m') and strftime($end_date, '%Y-%m')
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
    group by agent_id
),
users as (
    select agent_id, bit_count(bit_or(users)) as active_users
    from active_sets($period_units, $start_date, $end_date, $team_ids, $agent_ids, false, true)
    group by agent_id
),
totals as (
    select sums.*, users.active_users
    from sums
    join users on users.agent_id = sums.agent_id
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
