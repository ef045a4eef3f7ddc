-- Makes: report_notes_rows — the notes of every finished report (sql/report/08_report_notes.sql:
-- why some stores got zeros), by report_id. Created if missing each time the service starts.
-- Needs: nothing (the service makes it in its own database file).

CREATE TABLE IF NOT EXISTS report_notes_rows (
    report_id VARCHAR NOT NULL,
    finding VARCHAR NOT NULL,
    stores BIGINT NOT NULL,
    examples VARCHAR[],
    meaning VARCHAR
);
