-- Per local month × team × agent, who was active: a bitmap of their codes (user_codes,
-- given before their events are inserted; a person without one stops the insert: code 0 is nobody's).
select month, team_id, agent_id, groupBitmapState(code) as users
from (
    select
        toStartOfMonth(toDate(ts, '$tz')) as month,
        team_id,
        agent_id,
        joinGet('$database.user_codes', 'code', user_id) as code
    from $database.events
)
where throwIf(code = 0, 'a person without a code in user_codes: codes are given before events are inserted') = 0
group by month, team_id, agent_id
