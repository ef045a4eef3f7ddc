-- Makes: nothing (a statement on report_runs): A report failed, and the reports waiting on its computation with it. Parameters: the reason,
-- report_id, report_id.
UPDATE report_runs SET status = 'Failed', finished_at = now(), error = ?
WHERE report_id = ? OR (computed_by = ? AND status IN ('Queued', 'Running'))
