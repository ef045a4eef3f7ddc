-- Makes: nothing (a statement on report_runs): At start: a report the service stopped under too often fails. Parameters: the most starts.
UPDATE report_runs SET status = 'Failed', finished_at = now(),
    error = format('the service stopped {} times while computing this report', attempts)
WHERE status = 'Running' AND attempts >= ?
