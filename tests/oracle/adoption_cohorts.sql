-- Cohorts over the raw events (queries/sql/adoption_cohorts.sql): local months of activity up to $judged_end.
with active_months as (
    select distinct user_id, date_trunc('month', timezone($tz, ts)::date)::date as month
    from events
    where in_scope(team_id, agent_id, $team_ids, $agent_ids)
        and timezone($tz, ts)::date <= $judged_end
),
cohorts as (
    select user_id, min(month) as cohort_month from active_months group by user_id
),
months as (
    select month::date as month
    from range(date_trunc('month', $start_date::date), $judged_end::date + interval 1 day, interval 1 month) as t(month)
)
select
    cohorts.cohort_month,
    count(distinct cohorts.user_id) as size,
    datediff('month', cohorts.cohort_month, months.month)::integer as month_offset,
    count(distinct active_months.user_id) as active
from cohorts
join months on months.month >= cohorts.cohort_month
left join active_months on active_months.user_id = cohorts.user_id and active_months.month = months.month
where cohorts.cohort_month >= date_trunc('month', $start_date::date)
group by cohorts.cohort_month, months.month
order by cohorts.cohort_month, month_offset
