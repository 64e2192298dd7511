-- Per local day × team × agent, who was active: a bitmap of their codes (user_codes: every person in the directory
-- has one before their events can pass validation; docs/clickhouse.md, "Codes").
select toDate(events.ts, '$tz') as day, events.team_id as team_id, events.agent_id as agent_id,
    groupBitmapState(codes.code) as users
from $database.events as events
inner join $database.user_codes as codes on codes.user_id = events.user_id
group by day, team_id, agent_id
