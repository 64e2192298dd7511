-- The scope predicate, written once: which teams' and agents' rows a viewer's scope (queries/scope.py)
-- lets a question read. Every question calls it with its bound parameters:
--     where ... and in_scope(team_id, agent_id, $team_ids, $agent_ids)
-- `team_ids` NULL means every team, an empty list means no team at all, a list means those teams; the
-- same for `agent_ids`. Created on the DuckDB database that runs the questions (queries/db.py) before
-- any question runs; not a question itself.
--
-- Plain expressions only, so a ClickHouse backend can define the same names as lambda functions:
--     CREATE FUNCTION team_in_scope AS (team_id, team_ids) -> (isNull(team_ids) OR has(team_ids, team_id))
--     CREATE FUNCTION in_scope AS (team_id, agent_id, team_ids, agent_ids)
--         -> (team_in_scope(team_id, team_ids) AND agent_in_scope(agent_id, agent_ids))
-- (ClickHouse has no Nullable(Array): there the backend writes a literal NULL for "every team".)

-- A team the scope allows; a row with no team is allowed only when every team is.
create or replace macro team_in_scope(team_id, team_ids) as
    team_ids::varchar[] is null or list_contains(team_ids::varchar[], team_id);

create or replace macro agent_in_scope(agent_id, agent_ids) as
    agent_ids::varchar[] is null or list_contains(agent_ids::varchar[], agent_id);

create or replace macro in_scope(team_id, agent_id, team_ids, agent_ids) as
    team_in_scope(team_id, team_ids) and agent_in_scope(agent_id, agent_ids);

-- Whether the scope allows any team at all (a scope of no team sees nothing, not even the agent catalogue).
create or replace macro any_team_in_scope(team_ids) as
    team_ids::varchar[] is null or len(team_ids::varchar[]) > 0;

-- A row of user_totals (data/rollups/totals.py): how many of its days with activity are on or
-- before day `d` of the month at position `m` of its lists (months since year 0 minus its `month0`: 0 before
-- its first month, all of them after its last). The n-th entry of its lists per day with activity is the
-- state on that day: a period's interactions are running_interactions[n at its end] - [n the day before its
-- start] (0 for n = 0). ClickHouse: arrayElement for [ ], bitCount(bitAnd(m, bitShiftLeft(1, d) - 1)).
create or replace macro active_through(days, days_before, m, d) as
    case
        when m < 1 then 0
        when m > len(days) then days_before[len(days)] + bit_count(days[len(days)])
        else days_before[m] + bit_count(days[m] & ((1::bigint << d) - 1))
    end;

-- A date's month as a position in user_totals' lists (1: the month `month0`).
create or replace macro month_index(month0, d) as
    (year(d::date) * 12 + month(d::date) - month0)::integer;

-- The days of the month at position `m` of user_totals' lists that lie in the period, as a day mask.
create or replace macro period_days(m, month0, start_date, end_date) as
    (1::bigint << (case when m = month_index(month0, end_date) then day(end_date::date) else 31 end))
        - (1::bigint << (case when m = month_index(month0, start_date) then day(start_date::date) else 1 end - 1));

-- Whether each key of a question by `keys` ('org', 'team' or 'agent') in a scope is one group of the rollup
-- `active_windows` (everyone, a team or an agent): the scope names at most one team unless the keys are teams,
-- at most one agent unless they are agents, and not both teams and agents.
create or replace macro one_window_group(keys, team_ids, agent_ids) as
    (team_ids::varchar[] is null or keys = 'team' or len(team_ids::varchar[]) <= 1)
    and (agent_ids::varchar[] is null or keys = 'agent' or len(agent_ids::varchar[]) <= 1)
    and not ((keys = 'team' or team_ids::varchar[] is not null) and (keys = 'agent' or agent_ids::varchar[] is not null));
