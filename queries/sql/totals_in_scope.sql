-- The user_totals rows a scope reads: over all agents (in memory) unless it names agents, then those agents'
-- rows, from the file (its row groups of those agents), `moved`: a person's rows are added up, and a day with
-- two of the agents counts once. A table macro rather than a filter on a view: with the scope's agents bound,
-- DuckDB drops the part not read while planning, and does not open the file. Made with the rollup views
-- (queries/db.py); not a question itself.
create or replace macro totals_in_scope(team_ids, agent_ids) as table
select * from user_totals
where agent_ids::varchar[] is null and team_in_scope(team_id, team_ids)
union all
select * replace (true as moved) from user_totals_files
where agent_ids::varchar[] is not null and agent_id in (select unnest(agent_ids::varchar[]))
    and in_scope(team_id, agent_id, team_ids, agent_ids)
