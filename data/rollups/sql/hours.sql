-- Rollup: per local day × hour of day × team × agent, the period's interactions.
select
    timezone($tz, ts)::date as day,
    hour(timezone($tz, ts))::integer as hour,
    team_id,
    agent_id,
    count(*) as interactions
from events
where ts >= $from_ts and ts < $to_ts
    and utc_date between $from_utc_date and $to_utc_date
group by all
order by day, hour, team_id, agent_id
