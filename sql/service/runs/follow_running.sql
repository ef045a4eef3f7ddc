-- Makes: nothing (a statement on report_runs): A new report that shares a running computation runs with it. Parameters: report_id.
UPDATE report_runs SET status = 'Running', started_at = now() WHERE report_id = ?
