-- Makes: batches — adds the batch's row: rows read, kept (polls: new to the table; hours and
-- zones: rows now in force for the stores named), counted once (already there, or repeated),
-- rejected, and the latest poll now.
-- Needs: batch_rows; variables `batch_id`, `batch_source`, `batch_file`, `content_hash`,
-- `idempotency_key`, `kept_rows`.

INSERT INTO batches
WITH
counted AS (
    SELECT count(*) AS data_rows, count(*) FILTER (reason IS NULL) AS usable_rows FROM batch_rows
)
SELECT
    getvariable('batch_id'),
    'append',
    getvariable('batch_source'),
    getvariable('batch_file'),
    now(),
    getvariable('content_hash'),
    getvariable('idempotency_key'),
    data_rows,
    getvariable('kept_rows'),
    usable_rows - getvariable('kept_rows'),
    data_rows - usable_rows,
    (SELECT max(timestamp_utc) FROM polls)
FROM counted;
