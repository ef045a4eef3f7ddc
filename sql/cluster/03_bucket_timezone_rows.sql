-- Makes: timezone_rows — the time zone in force for each store of a report task's buckets, in the
-- shape of sql/load/12_timezone_rows.sql.
-- Rules: "Updates": a batch of time zones replaces the zones of the stores it names; other stores
-- keep theirs. Batches count in the order they were ingested (`seq`).
-- Needs: variable `timezone_files`, the buckets' Parquet files of zones (store_id, timezone, seq).

CREATE OR REPLACE TEMP TABLE timezone_rows AS
WITH
rows AS (
    SELECT * FROM read_parquet(getvariable('timezone_files'))
),
latest AS (
    SELECT store_id, max(seq) AS seq FROM rows GROUP BY store_id
)
SELECT
    NULL::BIGINT AS line,
    NULL::VARCHAR AS raw,
    store_id,
    timezone,
    NULL::VARCHAR AS reason,
    NULL::VARCHAR AS detail
FROM rows
SEMI JOIN latest USING (store_id, seq);
