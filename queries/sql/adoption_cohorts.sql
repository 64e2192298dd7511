-- Cohorts (docs/metrics.md): the people of the scope grouped by the local month of their first activity in it,
-- for the cohorts of the period's months; per cohort and month since (`month_offset`, 0 the cohort's own month,
-- up to $judged_end's month), how many were active in it; days after $judged_end do not count. From the rollups
-- (as tests/oracle/adoption_cohorts.sql): who was active in the scope each month, as one bitmap a month (user_sets:
-- the month's set of each whole month before $judged_end's month, the sets covering that month's days up to
-- $judged_end, `$month_units`); a month's cohort is its people active in no month before (AND NOT the OR of
-- those months), and a cohort's active people in a later month are the bits of the two sets' AND.
with month_sets as (
    select sets.start as month, sets.users::bit as users
    from user_sets as sets
    where sets.kind = 'month'
        and sets.start < date_trunc('month', $judged_end::date)
        and (sets.team_id is not null) = ($team_ids::varchar[] is not null)
        and (sets.agent_id is not null) = ($agent_ids::varchar[] is not null)
        and in_scope(sets.team_id, sets.agent_id, $team_ids, $agent_ids)
    union all
    select bucket as month, users
    from active_sets($month_units, date_trunc('month', $judged_end::date), $judged_end, $team_ids, $agent_ids, false, false)
),
months as (
    select month::date as month, bit_or(users) as users from month_sets group by month
),
firsts as (
    -- each month's people who were active in no month before it
    select
        month,
        users,
        coalesce(users & ~bit_or(users) over (order by month rows between unbounded preceding and 1 preceding), users)
            as people
    from months
),
cohorts as (
    select month as cohort, people, bit_count(people) as size
    from firsts
    where month >= date_trunc('month', $start_date::date)
),
offsets as (
    select cohort, people, size, unnest(range(0, datediff('month', cohort, $judged_end::date) + 1)) as month_offset
    from cohorts
    where size > 0
)
select
    offsets.cohort as cohort_month,
    offsets.size,
    offsets.month_offset::integer as month_offset,
    coalesce(bit_count(offsets.people & months.users), 0) as active
from offsets
left join months on months.month = offsets.cohort + to_months(offsets.month_offset::integer)
order by cohort_month, month_offset
