-- Makes: store_report — the whole report, exactly as `storemon report` and the API give it,
-- and prints it. The entry point for analysts in the duckdb shell, from the project's folder:
--     .venv/bin/duckdb -readonly data/storemon.duckdb -c ".read sql/report.sql"
-- As of another instant (polls after it are ignored):
--     .venv/bin/duckdb -readonly data/storemon.duckdb \
--         -c "SET VARIABLE as_of = TIMESTAMPTZ '2023-03-14 12:00:00+00'" -c ".read sql/report.sql"
-- Add -csv for CSV. The steps leave their relations (report_window, business_intervals,
-- evidence_polls, poll_spans, status_spans, store_times, store_report, report_notes,
-- store_outages, store_outage_summary, and beside the report its roll-ups per group,
-- group_rollups) as TEMP tables and views, to query in the same session, e.g.
--     SELECT * FROM store_outages WHERE store_id = '...';
-- DuckDB lets one process open the database file: while the service runs, use
-- sql/analyst_views.sql instead (finished reports and the loaded data, as Parquet).
-- Needs: the loaded data (`storemon ingest`).

.read sql/report/00_report_macros.sql
.read sql/report/01_report_window.sql
.read sql/report/02_report_stores.sql
.read sql/report/03_business_dates.sql
.read sql/report/03_business_hours_utc.sql
.read sql/report/03_business_intervals.sql
.read sql/report/04_evidence_polls.sql
.read sql/report/05_poll_spans.sql
.read sql/report/06_status_spans.sql
.read sql/report/07_store_report.sql
.read sql/report/08_report_notes.sql
.read sql/report/09_store_outages.sql
.read sql/report/10_store_outage_summary.sql
.read sql/rollups/01_group_sums.sql
.read sql/rollups/02_group_rollups.sql

SELECT * FROM store_report;
