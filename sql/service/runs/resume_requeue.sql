-- Makes: nothing (a statement on report_runs): At start: the reports cut off by a stop are queued again.
UPDATE report_runs SET status = 'Queued' WHERE status = 'Running'
