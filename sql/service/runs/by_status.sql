-- Makes: nothing (a statement on report_runs): How many reports are in each status (for /metrics).
SELECT status, count(*) FROM report_runs GROUP BY status
