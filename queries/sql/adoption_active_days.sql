-- Daily, weekly and monthly active people per local day of the period up to $judged_end, per organisation, team
-- or agent ($by; docs/metrics.md): the people active on the day, in the 7 and in the 28 days that end on it.
-- From the rollups (as tests/oracle/adoption_active_days.sql). Where each key is everyone, a team or an agent
-- (`one_window_group`: the scope names at most one team for keys that are not teams, one agent for keys that
-- are not agents, not both), `active_windows` holds the counts. Otherwise they are the bit counts of the OR of
-- the scope's day sets over each window (27 days before the period on), so people are counted once per window
-- whatever the teams or agents they were active in. Every day of every key active in the windows, zeros
-- included.
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
    -- otherwise, who was active in the scope per day of the windows and key: the day's bitmaps of the scope's
    -- groups (user_sets), or its lists of codes where a day's group must name both its team and its agent
    -- (user_day_sets, queries/db.py), OR-ed per key
    select day, key, bit_or(users) as users
    from (
        select
            sets.start as day,
            case $by when 'team' then sets.team_id when 'agent' then sets.agent_id else 'org' end as key,
            sets.users::bit as users
        from user_sets as sets
        where not one_window_group($by, $team_ids, $agent_ids)
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
            where not one_window_group($by, $team_ids, $agent_ids)
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
