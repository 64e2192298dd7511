-- The agent each person used most in the period and the scope (of equals, the first agent id), by name; for
-- the people $user_ids (null: everyone).
with ranked as (
    select
        user_id,
        agent_id,
        row_number() over (partition by user_id order by count(*) desc, agent_id) as position
    from events
    where ts >= $from_ts and ts < $to_ts
        and utc_date between $from_utc_date and $to_utc_date
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
        and ($user_ids::varchar[] is null or list_contains($user_ids::varchar[], user_id))
    group by user_id, agent_id
)
select ranked.user_id, coalesce(agents.name, ranked.agent_id) as most_used_agent
from ranked
left join agents on agents.agent_id = ranked.agent_id
where ranked.position = 1
order by ranked.user_id
