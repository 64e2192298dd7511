-- Usage, adoption and cost per team in the period, every team in scope listed, from the rollups
-- (as tests/oracle/team_stats.sql).
with sums as (
    select team_id, sum(interactions)::bigint as interactions, sum(cost_usd)::decimal(38, 6) as cost_usd
    from cube
    where day between $start_date and $end_date
        and month between strftime($start_date, '%Y-%m') and strftime($end_date, '%Y-%m')
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
    group by team_id
),
active as (
    select team_id, bit_or(users) as users
    from active_sets($period_units, $start_date, $end_date, $team_ids, $agent_ids, true, false)
    group by team_id
),
totals as (
    select sums.team_id, sums.interactions, bit_count(active.users) as active_users, sums.cost_usd
    from sums
    join active on active.team_id = sums.team_id
),
listed_by_directory as (
    -- The directory's people of each team (as in tests/oracle/team_stats.sql), and how many of them were active in it.
    select
        users.team_id,
        count(*) as listed,
        count(*) filter (where users.code < bit_length(active.users) and get_bit(active.users, users.code) = 1)
            as listed_and_active
    from people_codes as users
    left join active on active.team_id = users.team_id
    where users.created_at < $to_ts
        and users.active
        and team_in_scope(users.team_id, $team_ids)
    group by users.team_id
),
members as (
    -- Each team's people, as in tests/oracle/team_stats.sql: those active in it or listed in it by the directory.
    select
        coalesce(active.team_id, listed_by_directory.team_id) as team_id,
        coalesce(bit_count(active.users), 0)
            + coalesce(listed_by_directory.listed - listed_by_directory.listed_and_active, 0) as members
    from active
    full join listed_by_directory on listed_by_directory.team_id = active.team_id
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
