-- Each person's first and last activity up to the period's end (idx_ever), in the organization's local
-- time by DuckDB's (ICU) zone rules, like every local time the app shows; Polars' own time-zone data
-- differs in some zones (America/Vancouver from November 2026). Read by the per-person list's rollup
-- answer (queries/index_answers.py), whose question is ../user_activity.sql.
select
    user_code,
    timezone($tz, first_ts) as first_active,
    timezone($tz, last_ts) as last_active
from idx_ever
