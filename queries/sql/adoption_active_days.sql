-- Daily, weekly and monthly active people per local day of the period up to $judged_end, per organisation, team
-- or agent ($by; docs/metrics.md): the people active on the day, in the 7 and in the 28 days that end on it.
-- From the rollups (as tests/oracle/adoption_active_days.sql): each day's window is a bucket of the sets
-- (queries/sql/cover.sql), its units bound as $day_units, $week_units and $month_units (queries/adoption.py), so
-- people are counted once per window whatever the teams or agents they were active in. Every day of every key
-- active in the windows, zeros included.
with dau as (
    select bucket as day, case $by when 'team' then team_id when 'agent' then agent_id else 'org' end as key,
        bit_count(bit_or(users)) as people
    from active_sets($day_units, $window_start, $judged_end, $team_ids, $agent_ids, $by = 'team', $by = 'agent')
    group by all
),
wau as (
    select bucket as day, case $by when 'team' then team_id when 'agent' then agent_id else 'org' end as key,
        bit_count(bit_or(users)) as people
    from active_sets($week_units, $window_start, $judged_end, $team_ids, $agent_ids, $by = 'team', $by = 'agent')
    group by all
),
mau as (
    select bucket as day, case $by when 'team' then team_id when 'agent' then agent_id else 'org' end as key,
        bit_count(bit_or(users)) as people
    from active_sets($month_units, $window_start, $judged_end, $team_ids, $agent_ids, $by = 'team', $by = 'agent')
    group by all
),
days as (
    select day::date as day
    from range($start_date::timestamp, $judged_end::timestamp + interval 1 day, interval 1 day) as t(day)
),
keys as (
    select distinct key from mau where people > 0
)
select
    days.day,
    keys.key,
    coalesce(dau.people, 0)::bigint as dau,
    coalesce(wau.people, 0)::bigint as wau,
    coalesce(mau.people, 0)::bigint as mau
from days
cross join keys
left join dau on dau.day = days.day and dau.key = keys.key
left join wau on wau.day = days.day and wau.key = keys.key
left join mau on mau.day = days.day and mau.key = keys.key
order by keys.key, days.day
