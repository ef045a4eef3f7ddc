-- Makes: nothing (a statement on report_runs): The computations to run, oldest first.
SELECT report_id FROM report_runs WHERE status = 'Queued' AND computed_by IS NULL ORDER BY created_at
