-- Makes: nothing (a statement on report_runs): A finished report's notes: finding, stores, examples, meaning. Parameters: report_id.
SELECT finding, stores, examples, meaning FROM report_notes_rows WHERE report_id = ? ORDER BY finding
