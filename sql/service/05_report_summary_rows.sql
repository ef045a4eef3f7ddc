-- Makes: report_summary_rows — the outage summary of every finished report
-- (sql/report/10_store_outage_summary.sql), by report_id. Created if missing each time the
-- service starts.
-- Needs: nothing (the service makes it in its own database file).

CREATE TABLE IF NOT EXISTS report_summary_rows (
    report_id VARCHAR NOT NULL,
    store_id VARCHAR NOT NULL,
    outages_last_hour BIGINT NOT NULL,
    outages_last_day BIGINT NOT NULL,
    outages_last_week BIGINT NOT NULL,
    longest_outage_last_day DECIMAL(10, 2) NOT NULL,
    longest_outage_last_week DECIMAL(10, 2) NOT NULL,
    down_now BOOLEAN NOT NULL,
    last_outage_started_at TIMESTAMPTZ
);
