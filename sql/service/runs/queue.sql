-- Makes: nothing (a statement on report_runs): A new report, queued. Parameters: report_id, requested as-of (ISO, or NULL), share_key,
-- computed_by (the report whose computation it shares, or NULL).
INSERT INTO report_runs (report_id, status, requested_as_of, created_at, share_key, computed_by)
VALUES (?, 'Queued', ?::TIMESTAMPTZ, now(), ?, ?)
