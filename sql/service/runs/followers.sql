-- Makes: nothing (a statement on report_runs): The reports waiting on a computation. Parameters: the computing report's id.
SELECT report_id FROM report_runs WHERE computed_by = ? AND status IN ('Queued', 'Running')
