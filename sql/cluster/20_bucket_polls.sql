-- Makes: polls — a report task's usable polls, in no particular order: a task's tables are made
-- for its report and never stored, and not sorting them spares it about 0.15 s per million
-- polls.
-- Rules: the load's inputs and rule 4, as sql/load/21_poll_instants.sql decides them. When every
-- bucket of the task holds its polls in one file of the last compaction (variable
-- `polls_unique`, set by storemon/cluster.py), that file holds one row per store and instant
-- already (the compaction wrote it from poll_instants, storemon/cluster_compact.py): its rows
-- are taken as they are, without grouping them again (about 0.25 s less per million polls).
-- Needs: poll_rows (01_bucket_poll_rows.sql); stores and poll_instants (sql/load/20_stores.sql
-- and 21_poll_instants.sql, which storemon/cluster.py runs before it); variable
-- `polls_unique` (unset: false).

CREATE OR REPLACE TABLE polls AS
SELECT * FROM poll_instants
WHERE NOT coalesce(getvariable('polls_unique'), false)
UNION ALL
SELECT stores.store_key, poll_rows.timestamp_utc, poll_rows.active
FROM poll_rows
JOIN stores USING (store_id)
WHERE coalesce(getvariable('polls_unique'), false);
