-- Cohorts (docs/metrics.md): the people of the scope grouped by the local month of their first activity in it,
-- for the cohorts of the period's months; per cohort and month since (`month_offset`, 0 the cohort's own month,
-- up to $judged_end's month), how many were active in it; days after $judged_end do not count. From the rollups
-- (as tests/oracle/adoption_cohorts.sql): user_totals' day masks (one per month of a person's rows in the scope).
with bounds as (
    select
        year($start_date::date) * 12 + month($start_date::date) - 1 as first_month,
        year($judged_end::date) * 12 + month($judged_end::date) - 1 as last_month,
        (1::bigint << day($judged_end::date)) - 1 as last_days
),
per_row as (
    select user_id, month0, days from totals_in_scope($team_ids, $agent_ids)
),
active_months as (
    select distinct per_row.user_id, per_row.month0 + i - 1 as month_number
    from per_row, bounds, unnest(range(1, len(per_row.days) + 1)) as t(i)
    where per_row.month0 + i - 1 <= bounds.last_month
        and per_row.days[i]::bigint
            & (case when per_row.month0 + i - 1 = bounds.last_month then bounds.last_days else -1 end) <> 0
),
cohorts as (
    select user_id, min(month_number) as cohort from active_months group by user_id
),
sized as (
    select cohorts.cohort, count(*) as size
    from cohorts, bounds
    where cohorts.cohort between bounds.first_month and bounds.last_month
    group by cohorts.cohort
),
offsets as (
    select sized.cohort, sized.size, unnest(range(0, bounds.last_month - sized.cohort + 1)) as month_offset
    from sized, bounds
),
active as (
    select cohorts.cohort, active_months.month_number - cohorts.cohort as month_offset, count(*) as active
    from cohorts
    join active_months on active_months.user_id = cohorts.user_id
    group by all
)
select
    make_date((offsets.cohort // 12)::integer, (offsets.cohort % 12 + 1)::integer, 1) as cohort_month,
    offsets.size,
    offsets.month_offset::integer as month_offset,
    coalesce(active.active, 0) as active
from offsets
left join active on active.cohort = offsets.cohort and active.month_offset = offsets.month_offset
order by cohort_month, month_offset
