-- Per local month × team × agent × person, their usage, first and last instant and local day, and their days
-- with activity as bit masks (bit d - 1 for local day d; working_days: Monday to Friday only).
select
    toStartOfMonth(toDate(ts, '$tz')) as month,
    team_id,
    agent_id,
    user_id,
    count() as interactions,
    countIf(status = 'error') as errors,
    toDecimal128(sum(coalesce(cost_usd, toDecimal64(0, 6))), 6) as cost_usd,
    min(ts) as first_ts,
    max(ts) as last_ts,
    min(toDate(ts, '$tz')) as first_day,
    max(toDate(ts, '$tz')) as last_day,
    toUInt32(groupBitOr(bitShiftLeft(toUInt32(1), toDayOfMonth(toDate(ts, '$tz')) - 1))) as days,
    toUInt32(groupBitOrIf(bitShiftLeft(toUInt32(1), toDayOfMonth(toDate(ts, '$tz')) - 1),
        toDayOfWeek(toDate(ts, '$tz')) <= 5)) as working_days
from $database.events
group by month, team_id, agent_id, user_id
