-- Makes: batches, and rejected_rows.batch_id, in a database loaded before storemon kept batches
-- (what sql/load/27_batches.sql and 24_rejected_rows.sql make at every load now); its load is a
-- batch without an id. Does nothing to a database that has them.
-- Needs: load_summary, polls, rejected_rows.

ALTER TABLE rejected_rows ADD COLUMN IF NOT EXISTS batch_id VARCHAR;

CREATE TABLE IF NOT EXISTS batches AS
SELECT
    NULL::VARCHAR AS batch_id,
    'load' AS kind,
    source,
    file,
    loaded_at AS received_at,
    NULL::VARCHAR AS content_hash,
    NULL::VARCHAR AS idempotency_key,
    data_rows,
    kept_rows,
    duplicates,
    rejected,
    (SELECT max(timestamp_utc) FROM polls) AS latest_poll
FROM load_summary
ORDER BY source;
