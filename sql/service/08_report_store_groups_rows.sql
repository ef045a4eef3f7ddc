-- Makes: report_store_groups_rows — the groups of every finished report's stores
-- (sql/rollups/01_group_sums.sql, report_store_groups), by report_id: a key of some groups reads
-- a report's rows of their stores only. Created if missing each time the service starts.
-- Needs: nothing (the service makes it in its own database file).

CREATE TABLE IF NOT EXISTS report_store_groups_rows (
    report_id VARCHAR NOT NULL,
    store_id VARCHAR NOT NULL,
    "group" VARCHAR NOT NULL
);
