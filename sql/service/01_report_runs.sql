-- Makes: report_runs — one row per report the service was asked for: its state and history.
-- status: Queued (waiting for a worker), Running, Complete, Failed (`error` says why) or Removed
-- (its rows and files were deleted by retention at removed_at; `error` says which limit).
-- requested_as_of is what the client asked for (NULL: the latest poll); as_of is the `now` the
-- report used; sql_version is a hash of sql/ that produced it; seconds is the compute time;
-- attempts counts starts (a report whose service died under it is started again, up to 3 times).
-- data_batch_at is when the last batch in the data it read came in (how fresh it was), and
-- data_batch_id which batch that was (a store's week, asked later, says if the data changed since).
-- computed_by names the report whose computation this one shared (NULL: computed itself):
-- reports asked for the same data, as-of and SQL (`share_key`) are computed once.
-- Kept across restarts; created if missing, and given columns added since, each time the
-- service starts.
-- Needs: nothing (the service makes it in its own database file).

CREATE TABLE IF NOT EXISTS report_runs (
    report_id VARCHAR PRIMARY KEY,
    status VARCHAR NOT NULL,
    requested_as_of TIMESTAMPTZ,
    as_of TIMESTAMPTZ,
    sql_version VARCHAR,
    created_at TIMESTAMPTZ NOT NULL,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    seconds DOUBLE,
    stores INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    error VARCHAR
);

ALTER TABLE report_runs ADD COLUMN IF NOT EXISTS computed_by VARCHAR;
ALTER TABLE report_runs ADD COLUMN IF NOT EXISTS share_key VARCHAR;
ALTER TABLE report_runs ADD COLUMN IF NOT EXISTS removed_at TIMESTAMPTZ;
ALTER TABLE report_runs ADD COLUMN IF NOT EXISTS data_batch_at TIMESTAMPTZ;
ALTER TABLE report_runs ADD COLUMN IF NOT EXISTS data_batch_id VARCHAR;

-- Makes: report_runs_shown — each run as the API shows it (storemon/runs.py, Run): its instants
-- as ISO text in UTC, to the microsecond. The statements on runs are sql/service/runs/*.sql.
CREATE OR REPLACE VIEW report_runs_shown AS
SELECT
    report_id,
    status,
    strftime(requested_as_of, '%Y-%m-%dT%H:%M:%S.%fZ') AS requested_as_of,
    strftime(as_of, '%Y-%m-%dT%H:%M:%S.%fZ') AS as_of,
    sql_version,
    strftime(created_at, '%Y-%m-%dT%H:%M:%S.%fZ') AS created_at,
    strftime(started_at, '%Y-%m-%dT%H:%M:%S.%fZ') AS started_at,
    strftime(finished_at, '%Y-%m-%dT%H:%M:%S.%fZ') AS finished_at,
    seconds,
    stores,
    attempts,
    error,
    computed_by,
    strftime(removed_at, '%Y-%m-%dT%H:%M:%S.%fZ') AS removed_at,
    strftime(data_batch_at, '%Y-%m-%dT%H:%M:%S.%fZ') AS data_batch_at
FROM report_runs;
