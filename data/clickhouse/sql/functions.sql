-- The scope predicate of queries/sql/macros.sql as ClickHouse SQL functions (global to the server: the same
-- definition for every organization's database). ClickHouse has no Nullable(Array): "every team" is a flag of
-- its own, bound beside the list (queries/clickhouse.py binds `every_team`, `team_ids`; the same for agents).
create or replace function team_in_scope as (team_id, every_team, team_ids) -> (every_team or has(team_ids, team_id));

create or replace function agent_in_scope as (agent_id, every_agent, agent_ids) -> (every_agent or has(agent_ids, agent_id));

create or replace function in_scope as (team_id, agent_id, every_team, team_ids, every_agent, agent_ids)
    -> (team_in_scope(team_id, every_team, team_ids) and agent_in_scope(agent_id, every_agent, agent_ids));

create or replace function any_team_in_scope as (every_team, team_ids) -> (every_team or notEmpty(team_ids));

-- The days of `month` (its first day) from `first` to `last`, as user_month's masks hold them (bit d - 1 for day
-- d): a row was active in the period when its mask and this one share a bit. (toLastDayOfMonth: cheaper per
-- row than adding a month and taking a day.)
create or replace function month_days as (month, first, last)
    -> if(greatest(first, month) > least(last, toLastDayOfMonth(month)), toUInt32(0),
        toUInt32(bitShiftLeft(toUInt64(1), toDayOfMonth(least(last, toLastDayOfMonth(month))))
            - bitShiftLeft(toUInt64(1), toDayOfMonth(greatest(first, month)) - 1)));
