-- Usage, adoption and cost per team in the period, every team in scope listed, from the rollups
-- (as ../team_stats.sql).
with sums as (
    select team_id, sum(interactions)::bigint as interactions, sum(cost_usd)::decimal(38, 6) as cost_usd
    from cube
    where day between $start_date and $end_date
        and month between strftime($start_date, '%Y-%m') and strftime($end_date, '%Y-%m')
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
    group by team_id
),
active_pairs as (
    select user_id, team_id from idx_active_user_teams
),
totals as (
    select sums.team_id, sums.interactions, active.active_users, sums.cost_usd
    from sums
    join (select team_id, count(*) as active_users from active_pairs group by team_id) as active
        on active.team_id = sums.team_id
),
members as (
    -- Each team's people, as in ../team_stats.sql.
    select team_id, count(*) as members
    from (
        select team_id, user_id from active_pairs
        union
        select team_id, user_id
        from users
        where created_at < $to_ts
            and active
            and team_in_scope(team_id, $team_ids)
    )
    group by team_id
),
listed as (
    select team_id from teams
    where team_in_scope(team_id, $team_ids)
    union
    select team_id from totals
    union
    select team_id from members
)
select
    listed.team_id as key,
    coalesce(teams.name, listed.team_id) as label,
    coalesce(members.members, 0) as members,
    coalesce(totals.active_users, 0) as active_users,
    coalesce(totals.active_users, 0) / nullif(members.members, 0) as adoption,
    coalesce(totals.interactions, 0) as interactions,
    coalesce(totals.interactions, 0) / nullif(sum(coalesce(totals.interactions, 0)) over (), 0) as share,
    coalesce(totals.interactions, 0) / nullif(members.members, 0) as interactions_per_member,
    coalesce(totals.cost_usd, 0)::decimal(38, 6) as cost_usd
from listed
left join totals on totals.team_id = listed.team_id
left join members on members.team_id = listed.team_id
left join teams on teams.team_id = listed.team_id
order by interactions desc, label, key
