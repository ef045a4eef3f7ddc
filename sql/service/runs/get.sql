-- Makes: nothing (a statement on report_runs): A report's run, as the API shows it (report_runs_shown). Parameters: report_id.
SELECT * FROM report_runs_shown WHERE report_id = ?
