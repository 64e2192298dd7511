-- Rollup: per local month × user × team × agent, from the month's `user_day` rows: its usage, first and last
-- instant, and the days with activity as bit masks (bit d - 1 for day d of the month; `working_days`: the
-- Mondays to Fridays among them). A period's per-person figures are its whole months from here and its
-- other days from `user_day`; active days are the bit count of the OR of the masks per person and month,
-- never added up. ClickHouse: groupBitOr and bitCount.
select
    (day - day(day)::integer + 1) as month_start,
    user_id,
    team_id,
    agent_id,
    sum(interactions)::bigint as interactions,
    sum(errors)::bigint as errors,
    sum(cost_usd)::decimal(38, 6) as cost_usd,
    min(first_ts) as first_ts,
    max(last_ts) as last_ts,
    bit_or(1 << (day(day) - 1))::integer as days,
    bit_or(case when isodow(day) <= 5 then 1 << (day(day) - 1) else 0 end)::integer as working_days
from user_day
group by all
order by user_id, team_id, agent_id
