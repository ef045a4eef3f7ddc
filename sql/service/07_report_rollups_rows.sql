-- Makes: report_rollups_rows — the roll-ups of every finished report (sql/rollups/
-- 02_group_rollups.sql), by report_id. Created if missing each time the service starts.
-- Needs: nothing (the service makes it in its own database file).

CREATE TABLE IF NOT EXISTS report_rollups_rows (
    report_id VARCHAR NOT NULL,
    "group" VARCHAR NOT NULL,
    stores BIGINT NOT NULL,
    stores_with_evidence BIGINT NOT NULL,
    uptime_last_hour DECIMAL(18, 2) NOT NULL,
    uptime_last_day DECIMAL(18, 2) NOT NULL,
    uptime_last_week DECIMAL(18, 2) NOT NULL,
    downtime_last_hour DECIMAL(18, 2) NOT NULL,
    downtime_last_day DECIMAL(18, 2) NOT NULL,
    downtime_last_week DECIMAL(18, 2) NOT NULL,
    outages_last_hour BIGINT NOT NULL,
    outages_last_day BIGINT NOT NULL,
    outages_last_week BIGINT NOT NULL,
    down_now BIGINT NOT NULL,
    uptime_ratio_last_hour DECIMAL(5, 4),
    uptime_ratio_last_day DECIMAL(5, 4),
    uptime_ratio_last_week DECIMAL(5, 4)
);
