-- The agents one user used in the period, most used first.
select
    events.agent_id,
    coalesce(any_value(agents.name), events.agent_id) as agent,
    count(*) as interactions,
    sum(events.cost_usd)::decimal(38, 6) as cost_usd,
    count(*) filter (where events.status = 'error') as errors
from events
left join agents on agents.agent_id = events.agent_id
where events.user_id = $user_id
    and events.ts >= $from_ts and events.ts < $to_ts
    and events.utc_date between $from_utc_date and $to_utc_date
    and in_scope(events.team_id, events.agent_id, $team_ids, $agent_ids)
group by events.agent_id
order by interactions desc, events.agent_id
