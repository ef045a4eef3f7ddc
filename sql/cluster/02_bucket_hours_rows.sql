-- Makes: hours_rows — the business hours in force for the stores of a report task's buckets, in the
-- shape of sql/load/11_hours_rows.sql.
-- Rules: "Updates": a batch of business hours replaces all the hours of the stores it names with
-- usable rows; other stores keep theirs. Batches count in the order they were ingested (`seq`).
-- Needs: variable `hours_files`, the buckets' Parquet files of hours (store_id, day_of_week,
-- start_local, end_local, seq).

CREATE OR REPLACE TEMP TABLE hours_rows AS
WITH
rows AS (
    SELECT * FROM read_parquet(getvariable('hours_files'))
),
latest AS (
    SELECT store_id, max(seq) AS seq FROM rows GROUP BY store_id
)
SELECT
    NULL::BIGINT AS line,
    NULL::VARCHAR AS raw,
    store_id,
    day_of_week,
    start_local,
    end_local,
    NULL::VARCHAR AS reason,
    NULL::VARCHAR AS detail
FROM rows
SEMI JOIN latest USING (store_id, seq);
