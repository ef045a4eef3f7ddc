-- Makes: nothing (a statement on report_runs): The queued reports that share its computation start with it. Parameters: report_id.
UPDATE report_runs SET status = 'Running', started_at = now(), attempts = attempts + 1
WHERE computed_by = ? AND status = 'Queued'
