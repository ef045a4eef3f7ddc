-- Makes: report_rows — the rows of every finished report, for analysts to query and compare.
-- One row per (report_id, store), the columns of the report (sql/README.md, rule 7).
-- Created if missing each time the service starts.
-- Needs: nothing (the service makes it in its own database file).

CREATE TABLE IF NOT EXISTS report_rows (
    report_id VARCHAR NOT NULL,
    store_id VARCHAR NOT NULL,
    uptime_last_hour DECIMAL(10, 2),
    uptime_last_day DECIMAL(10, 2),
    uptime_last_week DECIMAL(10, 2),
    downtime_last_hour DECIMAL(10, 2),
    downtime_last_day DECIMAL(10, 2),
    downtime_last_week DECIMAL(10, 2)
);
