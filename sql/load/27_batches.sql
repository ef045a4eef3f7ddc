-- Makes: batches — every batch of rows the data is made of, one row per (batch, source): a full
-- load starts the table anew with its three files (kind `load`); each append adds its own
-- (sql/append/). `content_hash` and `idempotency_key` recognise a batch sent again; the counts
-- are as in load_summary; `latest_poll` is the latest poll once the batch was in.
-- Rules: "Updates": a full load replaces everything.
-- Needs: load_summary, polls; variable `batch_id`.

CREATE OR REPLACE TABLE batches AS
SELECT
    getvariable('batch_id')::VARCHAR AS batch_id,
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
