-- Makes: rejected_rows.batch_id in a database loaded before storemon kept batches (what
-- sql/load/24_rejected_rows.sql makes at every load now). Such a database also lacks `batches`:
-- the appender then runs sql/load/27_batches.sql for it, its load a batch without an id.
-- Does nothing to a database that has the column.
-- Needs: rejected_rows.

ALTER TABLE rejected_rows ADD COLUMN IF NOT EXISTS batch_id VARCHAR;
