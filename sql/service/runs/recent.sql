-- Makes: nothing (a statement on report_runs): The newest runs that were not removed, newest first. Parameters: how many.
SELECT shown.*
FROM report_runs_shown AS shown
JOIN report_runs USING (report_id)
WHERE report_runs.status <> 'Removed'
ORDER BY report_runs.created_at DESC, report_id
LIMIT ?
