-- Makes: special_hours_rows — the special hours in force for the stores of a report task's
-- buckets, in the shape of sql/load/13_special_hours_rows.sql.
-- Rules: "Updates": a batch of special hours replaces, for each (store, date) it names with a
-- usable row, that store's special rows for that date; other dates keep theirs. Batches count
-- in the order they were ingested (`seq`).
-- Needs: variable `special_files`, the buckets' Parquet files of special hours (store_id,
-- local_date, start_local, end_local, seq).

CREATE OR REPLACE TEMP TABLE special_hours_rows AS
WITH
rows AS (
    SELECT * FROM read_parquet(getvariable('special_files'))
),
latest AS (
    SELECT store_id, local_date, max(seq) AS seq FROM rows GROUP BY store_id, local_date
)
SELECT
    NULL::BIGINT AS line,
    NULL::VARCHAR AS raw,
    store_id,
    local_date,
    start_local,
    end_local,
    start_local IS NULL AS closed,
    NULL::VARCHAR AS reason,
    NULL::VARCHAR AS detail
FROM rows
SEMI JOIN latest USING (store_id, local_date, seq);
