-- Daily, weekly and monthly active people per local day of the period up to $judged_end, per organisation, team
-- or agent ($by; docs/metrics.md): the people active on the day, in the 7 and in the 28 days that end on it.
-- From the rollups (as tests/oracle/adoption_active_days.sql). Where each key is everyone, a team or an agent
-- (`one_window_group`: the scope names at most one team for keys that are not teams, one agent for keys that
-- are not agents, not both), `active_windows` holds the counts. Otherwise each day's window is a bucket of the
-- sets (queries/sql/cover.sql), covered by the fewest units as queries/period.py `cover` would (a whole month,
-- else a whole ISO week, else a day), so people are counted once per window whatever the teams or agents they
-- were active in. Every day of every key active in the windows, zeros included.
with windows as (
    select day, case $by when 'team' then team_id when 'agent' then agent_id else 'org' end as key, dau, wau, mau
    from active_windows
    where one_window_group($by, $team_ids, $agent_ids)
        and day between $start_date::date and $judged_end::date
        and (team_id is not null) = ($team_ids::varchar[] is not null or $by = 'team')
        and (agent_id is not null) = ($agent_ids::varchar[] is not null or $by = 'agent')
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
),
active as (
    -- one question for the three windows: a bucket is the window's last day and its length, as one number
    -- (days since 1970 × 100 + length), each covered by the fewest units as queries/period.py `cover` would
    select
        date '1970-01-01' + (bucket // 100)::integer as day,
        (bucket % 100)::integer as length,
        case $by when 'team' then team_id when 'agent' then agent_id else 'org' end as key,
        bit_count(bit_or(users)) as people
    from active_sets(
        (
            select list(distinct {'bucket': (bucket - date '1970-01-01') * 100 + length, 'kind': kind, 'start': start})
            from (
                select
                    length,
                    bucket,
                    case
                        when month_start >= bucket - length + 1 and last_day(covered) <= bucket then 'month'
                        when week_start >= bucket - length + 1 and week_start + 6 <= bucket then 'week'
                        else 'day'
                    end as kind,
                    case kind when 'month' then month_start when 'week' then week_start else covered end as start
                from (
                    select
                        lengths.length::integer as length,
                        days.day::date as bucket,
                        (days.day::date - offsets.back::integer)::date as covered,
                        date_trunc('week', covered)::date as week_start,
                        date_trunc('month', covered)::date as month_start
                    from (values (1), (7), (28)) as lengths(length),
                        range($start_date::timestamp, $judged_end::timestamp + interval 1 day, interval 1 day)
                            as days(day),
                        range(0, 28) as offsets(back)
                    where offsets.back < lengths.length
                )
            )
        ),
        $window_start, $judged_end, $team_ids, $agent_ids, $by = 'team', $by = 'agent'
    )
    where not one_window_group($by, $team_ids, $agent_ids)
    group by all
),
counts as (
    select day, key, dau, wau, mau from windows
    union all
    select
        day,
        key,
        max(people) filter (where length = 1) as dau,
        max(people) filter (where length = 7) as wau,
        max(people) filter (where length = 28) as mau
    from active
    group by day, key
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
