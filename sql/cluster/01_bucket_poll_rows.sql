-- Makes: poll_rows — the usable polls of a report task's buckets of a cluster's data folder, in the
-- shape the load's parsing gives them (sql/load/10_poll_rows.sql), so that the load's own files
-- make the tables from them (sql/load/20_stores.sql to 23_store_timezones.sql). A view: the
-- Parquet is read in place (twice: its ids for 20_stores.sql, its rows for
-- 21_poll_instants.sql), not copied into a table first (about 0.15 s less per million polls).
-- Rules: "Updates": the stored polls are the union of every batch (21_poll_instants.sql then
-- counts a store's polls at one instant once, inactive winning).
-- Needs: variable `poll_files`, the buckets' Parquet poll files (store_id, timestamp_utc,
-- active, seq), written by `storemon cluster ingest` (storemon/cluster.py).

CREATE OR REPLACE TEMP VIEW poll_rows AS
SELECT
    NULL::BIGINT AS line,
    NULL::VARCHAR AS raw,
    store_id,
    active,
    timestamp_utc,
    NULL::VARCHAR AS reason,
    NULL::VARCHAR AS detail
FROM read_parquet(getvariable('poll_files'));
