-- Daily, weekly and monthly active people per local day up to $judged_end, per organisation, team or agent ($by),
-- over the raw events (queries/sql/adoption_active_days.sql).
with active as (
    select distinct
        case $by when 'team' then team_id when 'agent' then agent_id else 'org' end as key,
        user_id,
        timezone($tz, ts)::date as day
    from events
    where in_scope(team_id, agent_id, $team_ids, $agent_ids)
        and timezone($tz, ts)::date between $window_start and $judged_end
),
days as (
    select day::date as day
    from range($start_date::timestamp, $judged_end::timestamp + interval 1 day, interval 1 day) as t(day)
),
keys as (
    select distinct key from active
)
select
    days.day,
    keys.key,
    count(distinct active.user_id) filter (where active.day = days.day) as dau,
    count(distinct active.user_id) filter (where active.day > days.day - 7) as wau,
    count(distinct active.user_id) as mau
from days
cross join keys
left join active on active.key = keys.key and active.day between days.day - 27 and days.day
group by days.day, keys.key
order by keys.key, days.day
