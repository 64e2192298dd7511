-- Rollup: per local day × user × team × agent, the period's usage; distinct users are counted from
-- these rows (never added up), so they stay exact over any period and scope.
select
    timezone($tz, ts)::date as day,
    user_id,
    team_id,
    agent_id,
    count(*) as interactions,
    count(*) filter (where status = 'error') as errors,
    sum(cost_usd)::decimal(38, 6) as cost_usd,
    min(ts) as first_ts,
    max(ts) as last_ts
from events
where ts >= $from_ts and ts < $to_ts
    and utc_date between $from_utc_date and $to_utc_date
group by all
order by day, user_id, team_id, agent_id
