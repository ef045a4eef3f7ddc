-- Makes: batches, rejected_rows — forgets the appended batches beyond the newest `keep_batches`
-- or received before `batch_cutoff` (either NULL: no such limit), with what they brought along:
-- their row here (and so their Idempotency-Key and content hash: a batch sent again after that
-- is appended again, its polls counted once as ever) and their rejected rows. The polls, hours
-- and zones they added stay: those are the data, whose own retention is 50_poll_retention.sql.
-- The load's rows (kind `load`) stay: they describe the data as loaded.
-- Needs: batches, rejected_rows; variables `keep_batches`, `batch_cutoff`.

CREATE OR REPLACE TEMP TABLE forgotten_batches AS
SELECT batch_id
FROM (
    SELECT
        batch_id,
        received_at,
        row_number() OVER (ORDER BY received_at DESC, batch_id DESC) AS newest
    FROM batches
    WHERE kind = 'append'
)
WHERE newest > coalesce(getvariable('keep_batches'), 9223372036854775807)
   OR received_at < coalesce(getvariable('batch_cutoff'), '-infinity'::TIMESTAMPTZ);

DELETE FROM rejected_rows WHERE batch_id IN (SELECT batch_id FROM forgotten_batches);

DELETE FROM batches WHERE batch_id IN (SELECT batch_id FROM forgotten_batches);
