-- Cohorts (as ../adoption_cohorts.sql): the people of the scope by the local month of their first activity in
-- it, for the cohorts of the period's months; per cohort and month since (0: its own, up to {judged_end}'s
-- month), how many were active in it. Days after {judged_end} do not count. As DuckDB's, from who was active in the
-- scope each month as one bitmap of people's codes a month (people_months: each whole month before {judged_end}'s;
-- people_days: that month's days up to {judged_end}); a month's cohort is its people active in no month before
-- (the month's bitmap AND NOT the OR of the months before), and a cohort's active people in a later month are the
-- bits of the two bitmaps' AND: a few dozen bitmaps, not a row per person and month.
with month_rows as (
    select month, users
    from $database.people_months
    where month < toStartOfMonth({judged_end:Date})
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
    union all
    select toStartOfMonth({judged_end:Date}) as month, users
    from $database.people_days
    where day between toStartOfMonth({judged_end:Date}) and {judged_end:Date}
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
),
months as (
    select month, groupBitmapMergeState(users) as users from month_rows group by month
),
cohorts as (
    -- each month's people who were active in no month before it, for the period's months
    select month, people
    from (
        select
            month,
            bitmapAndnot(
                users,
                groupBitmapMergeState(users) over (order by month rows between unbounded preceding and 1 preceding)
            ) as people
        from months
    )
    where month >= toStartOfMonth({start_date:Date}) and bitmapCardinality(people) > 0
),
pairs as (
    -- each cohort and each month since, up to {judged_end}'s (a month with nobody active too)
    select month as cohort_month, month_offset, addMonths(month, month_offset) as later_month, people
    from cohorts
    array join range(toUInt32(dateDiff('month', month, toStartOfMonth({judged_end:Date})) + 1)) as month_offset
)
select
    pairs.cohort_month as cohort_month,
    toInt64(bitmapCardinality(pairs.people)) as size,
    toInt32(pairs.month_offset) as month_offset,
    -- a month with nobody active has no row: the join gives its default, an empty bitmap
    toInt64(bitmapAndCardinality(pairs.people, later.users)) as active
from pairs
left join months as later on later.month = pairs.later_month
order by cohort_month, month_offset
