-- Makes: nothing (a statement on report_runs): A queued report starts (once: a report already taken answers no row): its requested as-of
-- as epoch us. Parameters: report_id.
UPDATE report_runs SET status = 'Running', started_at = now(), attempts = attempts + 1, error = NULL
WHERE report_id = ? AND status = 'Queued'
RETURNING epoch_us(requested_as_of)
