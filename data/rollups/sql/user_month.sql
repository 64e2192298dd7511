-- Rollup: per local month × user × team × agent, and per local month × user × team over all agents
-- (`agent_id` null: grouping sets, a tenth of the rows, read unless a scope names agents), from the month's
-- `user_day` rows: its usage, first and last instant, and the days with activity as bit masks (bit d - 1
-- for day d of the month; `working_days`: the Mondays to Fridays among them). A period's per-person
-- figures are its whole months from here and its other days from `user_day`; active days are the bit
-- count of the OR of the masks per person and month, never added up. ClickHouse: groupBitOr, bitCount.
with days as (
    select
        (day - day(day)::integer + 1) as month_start,
        user_id,
        team_id,
        agent_id,
        interactions,
        errors,
        cost_usd,
        first_ts,
        last_ts,
        (1 << (day(day) - 1))::integer as day_bit,
        isodow(day) <= 5 as working
    from user_day
)
select
    month_start,
    user_id,
    team_id,
    agent_id,
    sum(interactions)::bigint as interactions,
    sum(errors)::bigint as errors,
    sum(cost_usd)::decimal(38, 6) as cost_usd,
    min(first_ts) as first_ts,
    max(last_ts) as last_ts,
    bit_or(day_bit)::integer as days,
    coalesce(bit_or(day_bit) filter (where working), 0)::integer as working_days
from days
group by grouping sets ((month_start, user_id, team_id, agent_id), (month_start, user_id, team_id))
-- the rows over all agents first: a question that reads only them reads their row groups only
order by agent_id is not null, user_id, team_id, agent_id
