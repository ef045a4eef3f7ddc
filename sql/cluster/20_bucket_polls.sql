-- Makes: polls — a report task's usable polls, in no particular order: a task's tables are made
-- for its report and never stored, and not sorting them spares it about 0.15 s per million
-- polls.
-- Rules: the load's inputs and rule 4, as sql/load/21_poll_instants.sql decides them (one row per
-- store and instant, inactive winning). A task whose buckets each hold their polls in one file of
-- the last compaction, written so already, reads them by key instead
-- (20_bucket_compacted_polls.sql).
-- Needs: poll_instants (sql/load/21_poll_instants.sql, which storemon/cluster.py runs before it).

CREATE OR REPLACE TABLE polls AS
SELECT * FROM poll_instants;
