-- First and last local day with interactions in the scope, for "All time", reading only some partitions:
-- the first day among the UTC dates $head_from..$head_to, the last among $tail_from..$tail_to (a null
-- range reads nothing). queries/usage.py widens the ranges until the answer is exact.
with scoped as (
    select ts, utc_date
    from events
    where (utc_date between $head_from and $head_to or utc_date between $tail_from and $tail_to)
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
)
select
    timezone($tz, min(ts) filter (where utc_date between $head_from and $head_to))::date as first_day,
    timezone($tz, max(ts) filter (where utc_date between $tail_from and $tail_to))::date as last_day
from scoped
