-- Makes: group_rows — the groups in force for the stores of a report task's buckets, in the
-- shape of sql/load/14_group_rows.sql.
-- Rules: "Updates": a batch of store groups replaces all the groups of the stores it names with
-- usable rows; other stores keep theirs. Batches count in the order they were ingested (`seq`).
-- Needs: variable `group_files`, the buckets' Parquet files of store groups (store_id,
-- group_name, seq).

CREATE OR REPLACE TEMP TABLE group_rows AS
WITH
rows AS (
    SELECT * FROM read_parquet(getvariable('group_files'))
),
latest AS (
    SELECT store_id, max(seq) AS seq FROM rows GROUP BY store_id
)
SELECT
    NULL::BIGINT AS line,
    NULL::VARCHAR AS raw,
    store_id,
    group_name,
    NULL::VARCHAR AS reason,
    NULL::VARCHAR AS detail
FROM rows
SEMI JOIN latest USING (store_id, seq);
