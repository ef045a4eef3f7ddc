-- Makes: polls — a report task's polls, when each of its buckets holds them in one file of the
-- last compaction: that file's rows as they are, by the keys of 10_bucket_stores.sql. No store
-- id is read and none is joined: at 10x, about 0.06 s less per task of 2 M polls than
-- 20_bucket_polls.sql, which reads them by id.
-- Rules: the load's inputs and rule 4: the compaction wrote one row per store and instant,
-- inactive winning (sql/load/21_poll_instants.sql, storemon/cluster_compact.py). In that file's
-- order, (store, instant), which the report's SQL runs faster on.
-- Needs: variable `poll_files`, the compaction's files of the buckets (store_key,
-- timestamp_utc, active, ...); stores (10_bucket_stores.sql).

CREATE OR REPLACE TABLE polls AS
SELECT store_key, timestamp_utc, active
FROM read_parquet(getvariable('poll_files'));
