-- Daily, weekly and monthly active people per local day of the period up to $judged_end, per organisation, team
-- or agent ($by; docs/metrics.md): the people active on the day, in the 7 and in the 28 days that end on it.
-- From the rollups (as tests/oracle/adoption_active_days.sql), people counted once per window whatever the teams
-- or agents they were active in, by one of three routes, by how many sets a key's windows would OR:
--   * each key is everyone, a team or an agent (`one_window_group`: the scope names at most one team for keys
--     that are not teams, one agent for keys that are not agents, not both): `active_windows` holds the counts;
--   * otherwise, the organisation (one key): the bit counts of the OR of the scope's day sets over each window
--     (27 days before the period on);
--   * otherwise, per team or agent: each person's day masks in the key (user_totals), a window's bit set where
--     the mask has an active day in it, the people with each day's bit counted (not a set per key and day: 36
--     agents' windows over 4 KB bitmaps cost seconds).
-- Every day of every key active in the windows, zeros included.
with windows as (
    select day, case $by when 'team' then team_id when 'agent' then agent_id else 'org' end as key, dau, wau, mau
    from active_windows
    where one_window_group($by, $team_ids, $agent_ids)
        and day between $start_date::date and $judged_end::date
        and (team_id is not null) = ($team_ids::varchar[] is not null or $by = 'team')
        and (agent_id is not null) = ($agent_ids::varchar[] is not null or $by = 'agent')
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
),
day_sets as (
    -- otherwise, for the organisation's one key: who was active in the scope per day of the windows, the day's
    -- bitmaps of the scope's groups (user_sets), or its lists of codes where a day's group must name both its team
    -- and its agent (user_day_sets, queries/db.py), OR-ed
    select day, key, bit_or(users) as users
    from (
        select
            sets.start as day,
            case $by when 'team' then sets.team_id when 'agent' then sets.agent_id else 'org' end as key,
            sets.users::bit as users
        from user_sets as sets
        where not one_window_group($by, $team_ids, $agent_ids) and $by = 'org'
            and sets.kind = 'day'
            and sets.start between $window_start::date and $judged_end::date
            and (sets.team_id is not null) = ($team_ids::varchar[] is not null or $by = 'team')
            and (sets.agent_id is not null) = ($agent_ids::varchar[] is not null or $by = 'agent')
            and in_scope(sets.team_id, sets.agent_id, $team_ids, $agent_ids)
        union all
        select day, key, bitstring_agg(code, 0, sets_capacity() - 1) as users
        from (
            select
                days.day,
                case $by when 'team' then days.team_id when 'agent' then days.agent_id else 'org' end as key,
                unnest(days.codes) as code
            from user_day_sets as days
            where not one_window_group($by, $team_ids, $agent_ids) and $by = 'org'
                and ($team_ids::varchar[] is not null or $by = 'team')
                and ($agent_ids::varchar[] is not null or $by = 'agent')
                and days.day between $window_start::date and $judged_end::date
                and in_scope(days.team_id, days.agent_id, $team_ids, $agent_ids)
        )
        group by day, key
    )
    group by day, key
),
grid as (
    -- every day of the windows of every key, a day with nobody active too (null): the windows below are rows
    select keys.key, span.day::date as day, day_sets.users
    from (select distinct key from day_sets) as keys
    cross join range($window_start::timestamp, $judged_end::timestamp + interval 1 day, interval 1 day) as span(day)
    left join day_sets on day_sets.key = keys.key and day_sets.day = span.day::date
),
per_row as (
    -- per team or agent, each person's history in the scope as adoption_funnel.sql reads it (user_totals: a row
    -- per team, per team × agent where the keys are agents or the scope names agents; `moved`: rows to OR)
    select code, moved, team_id, agent_id, month0, days
    from totals_in_scope($team_ids, $agent_ids)
    where not one_window_group($by, $team_ids, $agent_ids) and $by = 'team'
    union all
    select code, moved, team_id, agent_id, month0, days
    from agent_totals
    where not one_window_group($by, $team_ids, $agent_ids)
        and $by = 'agent' and $agent_ids::varchar[] is null and team_in_scope(team_id, $team_ids)
    union all
    select code, moved, team_id, agent_id, month0, days
    from totals_in_scope($team_ids, $agent_ids)
    where not one_window_group($by, $team_ids, $agent_ids) and $by = 'agent' and $agent_ids::varchar[] is not null
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
    -- per key and month, how many people have each day's bit, three days to a sum: bits d, d + 1, d + 2 times
    -- 1 + 2^20 + 2^40, masked, sit at bits 0, 21 and 42, so the sum holds the three days' counts 21 bits apart
    -- (exact below 2^21 people; 93 sums of one bit cost twice these 33)
    select
        key,
        month,
        [
            sum(((day_bits >> 0) & 7) * 1099512676353 & 4398048608257),
            sum(((day_bits >> 3) & 7) * 1099512676353 & 4398048608257),
            sum(((day_bits >> 6) & 7) * 1099512676353 & 4398048608257),
            sum(((day_bits >> 9) & 7) * 1099512676353 & 4398048608257),
            sum(((day_bits >> 12) & 7) * 1099512676353 & 4398048608257),
            sum(((day_bits >> 15) & 7) * 1099512676353 & 4398048608257),
            sum(((day_bits >> 18) & 7) * 1099512676353 & 4398048608257),
            sum(((day_bits >> 21) & 7) * 1099512676353 & 4398048608257),
            sum(((day_bits >> 24) & 7) * 1099512676353 & 4398048608257),
            sum(((day_bits >> 27) & 7) * 1099512676353 & 4398048608257),
            sum(((day_bits >> 30) & 7) * 1099512676353 & 4398048608257)
        ] as day_sums,
        [
            sum(((week_bits >> 0) & 7) * 1099512676353 & 4398048608257),
            sum(((week_bits >> 3) & 7) * 1099512676353 & 4398048608257),
            sum(((week_bits >> 6) & 7) * 1099512676353 & 4398048608257),
            sum(((week_bits >> 9) & 7) * 1099512676353 & 4398048608257),
            sum(((week_bits >> 12) & 7) * 1099512676353 & 4398048608257),
            sum(((week_bits >> 15) & 7) * 1099512676353 & 4398048608257),
            sum(((week_bits >> 18) & 7) * 1099512676353 & 4398048608257),
            sum(((week_bits >> 21) & 7) * 1099512676353 & 4398048608257),
            sum(((week_bits >> 24) & 7) * 1099512676353 & 4398048608257),
            sum(((week_bits >> 27) & 7) * 1099512676353 & 4398048608257),
            sum(((week_bits >> 30) & 7) * 1099512676353 & 4398048608257)
        ] as week_sums,
        [
            sum(((month_bits >> 0) & 7) * 1099512676353 & 4398048608257),
            sum(((month_bits >> 3) & 7) * 1099512676353 & 4398048608257),
            sum(((month_bits >> 6) & 7) * 1099512676353 & 4398048608257),
            sum(((month_bits >> 9) & 7) * 1099512676353 & 4398048608257),
            sum(((month_bits >> 12) & 7) * 1099512676353 & 4398048608257),
            sum(((month_bits >> 15) & 7) * 1099512676353 & 4398048608257),
            sum(((month_bits >> 18) & 7) * 1099512676353 & 4398048608257),
            sum(((month_bits >> 21) & 7) * 1099512676353 & 4398048608257),
            sum(((month_bits >> 24) & 7) * 1099512676353 & 4398048608257),
            sum(((month_bits >> 27) & 7) * 1099512676353 & 4398048608257),
            sum(((month_bits >> 30) & 7) * 1099512676353 & 4398048608257)
        ] as month_sums
    from dilated
    group by key, month
),
counts as (
    select day, key, dau, wau, mau from windows
    union all
    select
        day,
        key,
        coalesce(bit_count(users), 0) as dau,
        coalesce(bit_count(bit_or(users) over (partition by key order by day rows 6 preceding)), 0) as wau,
        coalesce(bit_count(bit_or(users) over (partition by key order by day rows 27 preceding)), 0) as mau
    from grid
    union all
    select
        make_date((month // 12)::integer, (month % 12 + 1)::integer, 1) + i::integer as day,
        key,
        (day_sums[i // 3 + 1] >> (21 * (i % 3))) & 2097151 as dau,
        (week_sums[i // 3 + 1] >> (21 * (i % 3))) & 2097151 as wau,
        (month_sums[i // 3 + 1] >> (21 * (i % 3))) & 2097151 as mau
    from (select *, unnest(range(31)) as i from sums)
    where month(day) = month % 12 + 1 and day between $start_date::date and $judged_end::date
),
days as (
    select day::date as day
    from range($start_date::timestamp, $judged_end::timestamp + interval 1 day, interval 1 day) as t(day)
),
keys as (
    select distinct key from counts where mau > 0 and day >= $start_date::date
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
