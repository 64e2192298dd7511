-- Cohorts (as ../adoption_cohorts.sql): the people of the scope by the local month of their first activity in
-- it, for the cohorts of the period's months; per cohort and month since (0: its own, up to {judged_end}'s
-- month), how many were active in it. Days after {judged_end} do not count. The cohorts from user_totals (a
-- person's first day in the scope), the months active from user_month (a row counts when its mask has a day up to
-- {judged_end}).
with cohorts as materialized (
    -- a person's first month in the scope, from their first day in it by {judged_end} (user_totals)
    select user_id, toYear(min(first_day)) * 12 + toMonth(min(first_day)) - 1 as cohort
    from $database.user_totals
    where (agent_id = '') = {every_agent:Bool}
        and first_day <= {judged_end:Date}
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
    group by user_id
),
active_months as (
    -- the months of the period's cohorts and after: from the period's first month on
    select distinct user_id, toYear(month) * 12 + toMonth(month) - 1 as month_number
    from (
        -- a person's rows over all agents when the question asks of every agent and not per agent
        select * from $database.person_month where {every_agent:Bool}
        union all
        select * from $database.user_month where not ({every_agent:Bool})
    )
    where month between toStartOfMonth({start_date:Date}) and {judged_end:Date}
        and bitAnd(days, month_days(month, month, {judged_end:Date})) != 0
        and in_scope(team_id, agent_id, {every_team:Bool}, {team_ids:Array(String)}, {every_agent:Bool}, {agent_ids:Array(String)})
),
sized as (
    select cohort, count() as size
    from cohorts
    where cohort between toYear({start_date:Date}) * 12 + toMonth({start_date:Date}) - 1
        and toYear({judged_end:Date}) * 12 + toMonth({judged_end:Date}) - 1
    group by cohort
),
offsets as (
    select cohort, size, arrayJoin(range(toUInt32(toYear({judged_end:Date}) * 12 + toMonth({judged_end:Date}) - cohort)))
        as month_offset
    from sized
),
active as (
    select cohorts.cohort as cohort, active_months.month_number - cohorts.cohort as month_offset, count() as active
    from cohorts
    inner join active_months on active_months.user_id = cohorts.user_id
    group by cohort, month_offset
)
select
    makeDate(intDiv(offsets.cohort, 12), offsets.cohort % 12 + 1, 1) as cohort_month,
    toInt64(offsets.size) as size,
    toInt32(offsets.month_offset) as month_offset,
    toInt64(coalesce(active.active, 0)) as active
from offsets
left join active on active.cohort = offsets.cohort and active.month_offset = offsets.month_offset
order by cohort_month, month_offset
settings join_use_nulls = 1, enable_materialized_cte = 1
