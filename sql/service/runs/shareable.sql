-- Makes: nothing (a statement on report_runs): The newest computation a report asked for the same thing may share (queued, running or
-- complete, computed for itself): report_id, status. Parameters: share_key.
SELECT report_id, status FROM report_runs
WHERE share_key = ? AND computed_by IS NULL AND status IN ('Queued', 'Running', 'Complete')
ORDER BY created_at DESC LIMIT 1
