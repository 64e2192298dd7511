-- The adoption funnel per agent ($by 'agent'), or per organisation and per team together (any other $by), a row per
-- `kind` and key, over the raw events (queries/sql/adoption_funnel.sql says what each stage is): local days up to
-- $judged_end, weeks counted back from it.
with kinds as (
    select unnest(case when $by = 'agent' then ['agent'] else ['org', 'team'] end) as kind
),
days as (
    select distinct
        kinds.kind,
        case kinds.kind when 'team' then team_id when 'agent' then agent_id else 'org' end as key,
        user_id,
        timezone($tz, ts)::date as day
    from events, kinds
    where in_scope(team_id, agent_id, $team_ids, $agent_ids)
        and timezone($tz, ts)::date <= $judged_end
),
judged as (
    select
        kind,
        key,
        user_id,
        bool_or(day >= $start_date) as active,
        count(distinct ($judged_end::date - day) // 7) filter (where day > $judged_end::date - 28) as weeks,
        count(*) filter (where day > $judged_end::date - 28) as days
    from days
    group by kind, key, user_id
),
keys as (
    select 'org' as kind, 'org' as key where $by <> 'agent'
    union
    select 'team', team_id from teams where $by <> 'agent' and team_in_scope(team_id, $team_ids)
    union
    select 'agent', agent_id from agents
    where $by = 'agent' and any_team_in_scope($team_ids) and agent_in_scope(agent_id, $agent_ids)
    union
    select kind, key from judged
),
listed as (
    select keys.kind, keys.key, users.user_id
    from users, keys
    where users.created_at < $to_ts
        and users.active
        and team_in_scope(users.team_id, $team_ids)
        and (keys.kind <> 'team' or users.team_id = keys.key)
    union
    select kind, key, user_id from judged where active
)
select
    keys.kind,
    keys.key,
    count(listed.user_id) as with_access,
    count(judged.user_id) as tried,
    count(judged.user_id) filter (where judged.active) as active,
    count(judged.user_id) filter (where judged.active and judged.weeks >= 3) as habitual,
    count(judged.user_id) filter (where judged.active and judged.weeks >= 3 and judged.days >= 12) as power
from keys
left join listed on listed.kind = keys.kind and listed.key = keys.key
left join judged on judged.kind = listed.kind and judged.key = listed.key and judged.user_id = listed.user_id
group by keys.kind, keys.key
order by keys.kind, keys.key
