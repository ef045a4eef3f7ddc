-- Makes: report_outages_rows — the outages of every finished report
-- (sql/report/09_store_outages.sql), by report_id. Created if missing each time the service
-- starts.
-- Needs: nothing (the service makes it in its own database file).

CREATE TABLE IF NOT EXISTS report_outages_rows (
    report_id VARCHAR NOT NULL,
    store_id VARCHAR NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    ended_at TIMESTAMPTZ NOT NULL,
    started_at_local VARCHAR NOT NULL,
    ended_at_local VARCHAR NOT NULL,
    down_hours DECIMAL(10, 2) NOT NULL,
    polls BIGINT NOT NULL,
    ongoing BOOLEAN NOT NULL,
    began_before_week BOOLEAN NOT NULL,
    down_us BIGINT NOT NULL,
    down_us_last_day BIGINT NOT NULL,
    down_us_last_hour BIGINT NOT NULL
);
