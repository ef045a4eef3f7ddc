-- Makes: stores — a report task's stores, with the keys the last compaction gave them, when
-- each of the task's buckets holds its polls in one file of that compaction (storemon/cluster.py
-- decides; 20_bucket_compacted_polls.sql then reads the polls by these keys, with no store ids).
-- Rules: the load's inputs, as sql/load/20_stores.sql makes them: every store named by a usable
-- row of any input. The compaction wrote each bucket's stores beside its polls
-- (storemon/cluster_compact.py), keyed `bucket * stride + n` for the bucket's n-th id in text
-- order, so the keys of a task's buckets never meet. A store named only by a batch of hours,
-- zones, special hours or groups after the compaction (it has no polls, so no report row) gets
-- a key below every compacted one: the same stores as the load's rule, each with its own key.
-- (Keys need not follow the ids' order here: nothing in a task's report orders by them.)
-- Needs: variable `store_files`, the compaction's files of the buckets' keys (store_key,
-- store_id); ids_beside_polls (sql/load/15_ids_beside_polls.sql, on 02-05's rows).

CREATE OR REPLACE TABLE stores AS
WITH
compacted AS (
    SELECT store_key, store_id FROM read_parquet(getvariable('store_files'))
),
newer AS (
    SELECT store_id FROM ids_beside_polls ANTI JOIN compacted USING (store_id)
),
final AS (
    SELECT store_key, store_id FROM compacted
    UNION ALL
    -- from the smallest INTEGER up: never -1, the key report_stores gives an unknown id
    SELECT (-2147483648 + row_number() OVER (ORDER BY store_id))::INTEGER, store_id FROM newer
)
SELECT * FROM final ORDER BY store_key;
