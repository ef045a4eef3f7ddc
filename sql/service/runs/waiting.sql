-- Makes: nothing (a statement on report_runs): How many computations are queued or running (--max-waiting bounds them).
SELECT count(*) FROM report_runs WHERE status IN ('Queued', 'Running') AND computed_by IS NULL
