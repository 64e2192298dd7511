-- Daily, weekly and monthly active people per local day of the period up to $judged_end, per team or agent ($by)
-- where the keys are not each one group of `active_windows` (queries/adoption.py, `active_days`; as
-- adoption_active_days.sql answers the others, and as tests/oracle/adoption_active_days.sql): the people active on
-- the day, in the 7 and in the 28 days that end on it, from each person's day masks in the key (user_totals), a
-- person counted once per window whatever the teams or agents they were active in. Not a set per key and day
-- OR-ed over each window (a bitmap of every person, per key and day of the windows): a few bit operations per
-- person and month. Every day of every key active in the windows, zeros included.
with per_row as (
    -- per team or agent, each person's history in the scope as adoption_funnel.sql reads it (user_totals: a row
    -- per team, per team × agent where the keys are agents or the scope names agents; `moved`: rows to OR)
    select code, moved, team_id, agent_id, month0, days
    from totals_in_scope($team_ids, $agent_ids)
    where $by = 'team'
    union all
    select code, moved, team_id, agent_id, month0, days
    from agent_totals
    where $by = 'agent' and $agent_ids::varchar[] is null and team_in_scope(team_id, $team_ids)
    union all
    select code, moved, team_id, agent_id, month0, days
    from totals_in_scope($team_ids, $agent_ids)
    where $by = 'agent' and $agent_ids::varchar[] is not null
),
month_rows as (
    -- per row, each month of the period (months since year 0) with its day mask and the month before's
    select
        key,
        code,
        moved,
        month0 + m - 1 as month,
        case when m between 1 and len(days) then days[m] else 0 end::ubigint as mask,
        case when m - 1 between 1 and len(days) then days[m - 1] else 0 end::ubigint as prev
    from (
        select
            case $by when 'team' then team_id else agent_id end as key,
            code,
            moved,
            month0,
            days,
            unnest(range(month_index(month0, $start_date::date), month_index(month0, $judged_end::date) + 1)) as m
        from per_row
    )
),
person_months as (
    -- a person's month in a key, their rows OR-ed where they have several (a day in two teams counts once), and
    -- how many days the month before has
    select
        key,
        month,
        mask,
        prev,
        day(make_date((month // 12)::integer, (month % 12 + 1)::integer, 1) - 1) as before
    from (
        select key, month, mask, prev from month_rows where not moved and (mask | prev) <> 0
        union all
        select key, month, bit_or(mask), bit_or(prev)
        from month_rows
        where moved and (mask | prev) <> 0
        group by key, code, month
    )
),
spans as (
    -- the two months' days as one run of bits, the month before's first; then OR-ed with itself shifted by 1 to
    -- 6 days: bit d is set where the 7 days ending on day d hold an active day (each step a column of its own:
    -- an alias used again in the same select is its whole expression again)
    select key, month, mask, before, (mask << before) | prev as two from person_months
),
weeks as (
    select
        key,
        month,
        mask,
        before,
        two | (two << 1) | (two << 2) | (two << 3) | (two << 4) | (two << 5) | (two << 6) as week
    from spans
),
dilated as (
    -- the month's own days (bit d - 1: day d): active on it, in the 7 and in the 28 days ending on it
    select
        key,
        month,
        mask::bigint as day_bits,
        ((week >> before) & 2147483647)::bigint as week_bits,
        (((week | (week << 7) | (week << 14) | (week << 21)) >> before) & 2147483647)::bigint as month_bits
    from weeks
),
sums as (
    -- per key, month and three days of it, how many people have each day's bit: a person's bits of days
    -- 3k + 1 .. 3k + 3 times 1 + 2^20 + 2^40, masked, sit at bits 0, 21 and 42, so one sum holds the three days'
    -- counts 21 bits apart (exact below 2^21 people; a sum per day and window costs twice as much)
    select
        key,
        month,
        k,
        sum(((day_bits >> (3 * k)) & 7) * 1099512676353 & 4398048608257) as day_sums,
        sum(((week_bits >> (3 * k)) & 7) * 1099512676353 & 4398048608257) as week_sums,
        sum(((month_bits >> (3 * k)) & 7) * 1099512676353 & 4398048608257) as month_sums
    from (select *, unnest(range(11)) as k from dilated)
    group by key, month, k
),
counts as (
    select
        make_date((month // 12)::integer, (month % 12 + 1)::integer, 1) + (3 * k + j)::integer as day,
        key,
        (day_sums >> (21 * j)) & 2097151 as dau,
        (week_sums >> (21 * j)) & 2097151 as wau,
        (month_sums >> (21 * j)) & 2097151 as mau
    from (select *, unnest(range(3)) as j from sums)
    where month(day) = month % 12 + 1 and day between $start_date::date and $judged_end::date
),
days as (
    select day::date as day
    from range($start_date::timestamp, $judged_end::timestamp + interval 1 day, interval 1 day) as t(day)
),
keys as (
    select distinct key from counts where mau > 0
)
select
    days.day,
    keys.key,
    coalesce(counts.dau, 0)::bigint as dau,
    coalesce(counts.wau, 0)::bigint as wau,
    coalesce(counts.mau, 0)::bigint as mau
from days
cross join keys
left join counts on counts.day = days.day and counts.key = keys.key
order by keys.key, days.day
