-- Makes: report_runs — one row per report the service was asked for: its state and history.
-- status: Queued (waiting for a worker), Running, Complete or Failed (`error` says why).
-- requested_as_of is what the client asked for (NULL: the latest poll); as_of is the `now` the
-- report used; sql_version is a hash of sql/ that produced it; seconds is the compute time;
-- attempts counts starts (a report whose service died under it is started again, up to 3 times).
-- Kept across restarts; created if missing each time the service starts.

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
