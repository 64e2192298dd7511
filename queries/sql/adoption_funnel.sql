-- The adoption funnel per agent ($by 'agent'), or per organisation and per team together (any other $by), a row per
-- `kind` and key (docs/metrics.md; one statement for both, as the Adoption tab shows both), from the rollups (as
-- tests/oracle/adoption_funnel.sql): user_totals alone (a person's history in a row per team, per
-- agent for $by = 'agent' or a scope that names agents) and the directory. Judged on the days that have passed:
-- $judged_end is the period's last day, or today if that comes first.
--   with_access: the people the key lists (docs/schema.md): its directory's people with access by the period's
--                end (for an agent: the scope's), and anyone active in it in the period;
--   tried:       of those, anyone with activity in it up to $judged_end;
--   active:      activity in it from $start_date to $judged_end;
--   habitual:    active, and active in at least 3 of the 4 weeks (7 days each) that end on $judged_end;
--   power:       habitual, and active on at least 12 of those 28 days.
-- The weeks come from the day masks of $judged_end's month and the month before (a 28-day window spans at most
-- two), OR-ed over a person's rows (a day in two teams counts once), as one 62-bit mask.
-- People are their codes (integers to group and join on), and counted per key: its directory's people, plus the
-- active people the directory does not list (not a row per key and person of the directory: 36 agents × 33,000
-- people at 100M events).
with per_row as (
    select code, moved, team_id, agent_id, month0, days, days_before
    from totals_in_scope($team_ids, $agent_ids)
    where $by <> 'agent'
    union all
    select code, moved, team_id, agent_id, month0, days, days_before
    from agent_totals
    where $by = 'agent' and $agent_ids::varchar[] is null and team_in_scope(team_id, $team_ids)
    union all
    select code, moved, team_id, agent_id, month0, days, days_before
    from totals_in_scope($team_ids, $agent_ids)
    where $by = 'agent' and $agent_ids::varchar[] is not null
),
kinds as (
    select unnest(case when $by = 'agent' then ['agent'] else ['org', 'team'] end) as kind
),
marks as (
    select
        kinds.kind,
        code,
        moved,
        case kinds.kind when 'team' then team_id when 'agent' then agent_id else 'org' end as key,
        active_through(days, days_before, month_index(month0, $start_date::date - 1), day($start_date::date - 1))
            as through_before,
        active_through(days, days_before, month_index(month0, $judged_end::date), day($judged_end::date))
            as through_end,
        month_index(month0, $judged_end::date) as m,
        case when m - 1 between 1 and len(days) then days[m - 1] else 0 end::bigint as lo,
        case when m between 1 and len(days) then days[m] else 0 end::bigint as hi
    from per_row, kinds
),
win as (
    -- the bit of $judged_end in (hi << days of the month before) | lo
    select
        day(date_trunc('month', $judged_end::date) - interval 1 day) as shift,
        day(date_trunc('month', $judged_end::date) - interval 1 day) + day($judged_end::date) - 1 as last_bit
),
per_person as (
    -- a person's rows in one key but for people who moved teams, whose rows in a key are OR-ed first
    select marks.kind, marks.key, marks.code, marks.through_end > 0 as tried, marks.through_end > marks.through_before as active,
        (marks.hi << win.shift) | marks.lo as mask
    from marks, win
    where not marks.moved
    union all
    select
        marks.kind,
        marks.key,
        marks.code,
        bool_or(marks.through_end > 0) as tried,
        bool_or(marks.through_end > marks.through_before) as active,
        (bit_or(marks.hi) << any_value(win.shift)) | bit_or(marks.lo) as mask
    from marks, win
    where marks.moved
    group by marks.kind, marks.key, marks.code
),
judged as (
    select
        kind,
        key,
        code,
        tried,
        active,
        ((((mask >> (last_bit - 6)) & 127) <> 0)::integer + (((mask >> (last_bit - 13)) & 127) <> 0)::integer
            + (((mask >> (last_bit - 20)) & 127) <> 0)::integer + (((mask >> (last_bit - 27)) & 127) <> 0)::integer)
            as weeks,
        bit_count((mask >> (last_bit - 27)) & ((1::bigint << 28) - 1)) as days
    from per_person, win
),
keys as (
    select 'org' as kind, 'org' as key where $by <> 'agent'
    union
    select 'team', team_id from teams where $by <> 'agent' and team_in_scope(team_id, $team_ids)
    union
    select 'agent', agent_id from agents
    where $by = 'agent' and any_team_in_scope($team_ids) and agent_in_scope(agent_id, $agent_ids)
    union
    select kind, key from judged where tried
),
directory as (
    -- the people the directory lists for the scope, once (not once per key: an agent's are all of them)
    select code, team_id
    from people_codes as users
    where users.created_at < $to_ts
        and users.active
        and team_in_scope(users.team_id, $team_ids)
),
per_key as (
    -- a key's people in the directory are listed, and anyone active in it: the directory's count, plus the
    -- active people it does not list
    select
        judged.kind,
        judged.key,
        count(*) filter (where judged.active and directory.code is null) as unlisted_active,
        count(*) filter (where judged.tried and (judged.active or directory.code is not null)) as tried,
        count(*) filter (where judged.active) as active,
        count(*) filter (where judged.active and judged.weeks >= 3) as habitual,
        count(*) filter (where judged.active and judged.weeks >= 3 and judged.days >= 12) as power
    from judged
    left join directory
        on directory.code = judged.code and (judged.kind <> 'team' or directory.team_id = judged.key)
    group by judged.kind, judged.key
),
listed as (
    select kinds.kind, case kinds.kind when 'team' then team_id else 'org' end as team_key, count(*) as people
    from directory, kinds
    group by all
)
select
    keys.kind,
    keys.key,
    (coalesce(listed.people, 0) + coalesce(per_key.unlisted_active, 0))::bigint as with_access,
    coalesce(per_key.tried, 0)::bigint as tried,
    coalesce(per_key.active, 0)::bigint as active,
    coalesce(per_key.habitual, 0)::bigint as habitual,
    coalesce(per_key.power, 0)::bigint as power
from keys
left join per_key on per_key.kind = keys.kind and per_key.key = keys.key
left join listed on listed.kind = keys.kind and listed.team_key = case keys.kind when 'team' then keys.key else 'org' end
order by keys.kind, keys.key
