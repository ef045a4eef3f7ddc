-- Makes: views for analysts over storemon's Parquet files, which need no lock on the database:
-- report_runs, report_rows, latest_report, report_outages, latest_outages, report_summary,
-- latest_summary, report_rollups, latest_rollups, stores, polls, business_hours, special_hours,
-- store_groups, store_timezones, rejected_rows, load_summary, data_quality, alert_events. They
-- work while the service runs (it holds the database file, and DuckDB then lets no other
-- process open it).
--   report_runs     every report asked of the service: report_id, status, requested_as_of,
--                   as_of, sql_version, created_at, started_at, finished_at, seconds, stores,
--                   attempts, error, computed_by, share_key, removed_at (a copy of the table,
--                   rewritten at every change of status; status Removed: retention removed it)
--   report_rows     every finished report's rows, with its report_id, as_of and finished_at
--   latest_report   the rows of the most recently finished report
--   report_outages  every finished report's outages (sql/report/09_store_outages.sql), with its
--                   report_id, as_of and finished_at; latest_outages: the newest report's
--   report_summary  every finished report's outage summary per store
--                   (sql/report/10_store_outage_summary.sql); latest_summary: the newest's
--   report_rollups  every finished report's roll-ups per group (sql/rollups/02_group_rollups.sql;
--                   reports made before storemon made roll-ups have none); latest_rollups:
--                   the newest's
--   alert_events    every alert event (down / up: sql/alerts/31_alert_events.sql), copied a
--                   little after each burst of batches
--   the rest        the loaded data as of the last `storemon ingest`, store ids as text
-- Run from the project's folder, in any duckdb shell (no database file needed):
--     .venv/bin/duckdb -c ".read sql/analyst_views.sql" -c "SELECT * FROM report_runs"
-- or `.read sql/analyst_views.sql` at the shell's prompt. For a database kept elsewhere than
-- data/, first: SET VARIABLE storemon_data = 'path/to/its/folder';
-- The report views need one finished report, the others one load.

CREATE OR REPLACE TEMP MACRO storemon_file(name) AS
    coalesce(getvariable('storemon_data'), 'data') || '/' || name;

CREATE OR REPLACE TEMP VIEW report_runs AS
SELECT * FROM read_parquet(storemon_file('snapshots/report_runs.parquet'));

CREATE OR REPLACE TEMP VIEW stores AS
SELECT * FROM read_parquet(storemon_file('snapshots/stores.parquet'));

CREATE OR REPLACE TEMP VIEW polls AS
SELECT stores.store_id, polls.timestamp_utc, polls.active
FROM read_parquet(storemon_file('snapshots/polls.parquet')) AS polls
JOIN stores USING (store_key);

CREATE OR REPLACE TEMP VIEW business_hours AS
SELECT stores.store_id, hours.* EXCLUDE (store_key)
FROM read_parquet(storemon_file('snapshots/business_hours.parquet')) AS hours
JOIN stores USING (store_key);

CREATE OR REPLACE TEMP VIEW special_hours AS
SELECT stores.store_id, special.* EXCLUDE (store_key)
FROM read_parquet(storemon_file('snapshots/special_hours.parquet')) AS special
JOIN stores USING (store_key);

CREATE OR REPLACE TEMP VIEW store_groups AS
SELECT stores.store_id, groups.* EXCLUDE (store_key)
FROM read_parquet(storemon_file('snapshots/store_groups.parquet')) AS groups
JOIN stores USING (store_key);

CREATE OR REPLACE TEMP VIEW store_timezones AS
SELECT stores.store_id, zones.* EXCLUDE (store_key)
FROM read_parquet(storemon_file('snapshots/store_timezones.parquet')) AS zones
JOIN stores USING (store_key);

CREATE OR REPLACE TEMP VIEW rejected_rows AS
SELECT * FROM read_parquet(storemon_file('snapshots/rejected_rows.parquet'));

CREATE OR REPLACE TEMP VIEW alert_events AS
SELECT * FROM read_parquet(storemon_file('snapshots/alert_events.parquet'));

CREATE OR REPLACE TEMP VIEW load_summary AS
SELECT * FROM read_parquet(storemon_file('snapshots/load_summary.parquet'));

CREATE OR REPLACE TEMP VIEW data_quality AS
SELECT * FROM read_parquet(storemon_file('snapshots/data_quality.parquet'));

-- A report's files are named by its id (22 characters): reports/<report_id>.parquet, and beside
-- it <report_id>.outages.parquet, .summary.parquet and .rollups.parquet; 22 `?` match only the
-- first.
CREATE OR REPLACE TEMP MACRO report_files(part) AS
    storemon_file('reports/' || repeat('?', 22) || part || '.parquet');

CREATE OR REPLACE TEMP MACRO finished_rows(part) AS TABLE
SELECT
    regexp_extract(rows.filename, '([^/\\.]+)[^/\\]*\.parquet$', 1) AS report_id,
    report_runs.as_of,
    report_runs.finished_at,
    rows.* EXCLUDE (filename)
FROM read_parquet(report_files(part), filename = true) AS rows
JOIN report_runs
  ON report_runs.report_id = regexp_extract(rows.filename, '([^/\\.]+)[^/\\]*\.parquet$', 1)
WHERE report_runs.status = 'Complete';

CREATE OR REPLACE TEMP MACRO latest_report_id() AS (
    SELECT report_id FROM report_runs WHERE status = 'Complete'
    ORDER BY finished_at DESC, report_id LIMIT 1
);

CREATE OR REPLACE TEMP VIEW report_rows AS FROM finished_rows('');

CREATE OR REPLACE TEMP VIEW latest_report AS
SELECT * EXCLUDE (report_id, as_of, finished_at)
FROM report_rows
WHERE report_id = latest_report_id()
ORDER BY store_id;

CREATE OR REPLACE TEMP VIEW report_outages AS FROM finished_rows('.outages');

CREATE OR REPLACE TEMP VIEW latest_outages AS
SELECT * EXCLUDE (report_id, as_of, finished_at)
FROM report_outages
WHERE report_id = latest_report_id()
ORDER BY store_id, started_at;

CREATE OR REPLACE TEMP VIEW report_summary AS FROM finished_rows('.summary');

CREATE OR REPLACE TEMP VIEW latest_summary AS
SELECT * EXCLUDE (report_id, as_of, finished_at)
FROM report_summary
WHERE report_id = latest_report_id()
ORDER BY store_id;

CREATE OR REPLACE TEMP VIEW report_rollups AS FROM finished_rows('.rollups');

CREATE OR REPLACE TEMP VIEW latest_rollups AS
SELECT * EXCLUDE (report_id, as_of, finished_at)
FROM report_rollups
WHERE report_id = latest_report_id()
ORDER BY "group";
