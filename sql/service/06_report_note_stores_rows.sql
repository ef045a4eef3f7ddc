-- Makes: report_note_stores_rows — the stores of each note of every finished report
-- (sql/report/08_report_notes.sql, report_note_stores), by report_id: what a report's page
-- lists when asked for the stores of one note. Created if missing each time the service starts.
-- Needs: nothing (the service makes it in its own database file).

CREATE TABLE IF NOT EXISTS report_note_stores_rows (
    report_id VARCHAR NOT NULL,
    finding VARCHAR NOT NULL,
    store_id VARCHAR NOT NULL
);
