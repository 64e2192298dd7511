-- Usage, adoption and cost per team in the period; every team in scope listed, also those with no interactions.
with scoped as (
    select team_id, user_id, cost_usd
    from events
    where ts >= $from_ts and ts < $to_ts
        and utc_date between $from_utc_date and $to_utc_date
        and in_scope(team_id, agent_id, $team_ids, $agent_ids)
),
totals as (
    select
        team_id,
        count(*) as interactions,
        count(distinct user_id) as active_users,
        sum(cost_usd)::decimal(38, 6) as cost_usd
    from scoped
    group by team_id
),
members as (
    -- Each team's people, as summary.sql lists a scope's: anyone with activity in the team in the
    -- period, and the people the directory puts in it who had access by the end and are still here.
    select team_id, count(*) as members
    from (
        select distinct team_id, user_id from scoped
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
