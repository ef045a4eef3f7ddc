-- Makes: nothing (a statement on report_runs): A computed report's run: Complete. Parameters: its now (epoch us), stores, sql_version,
-- seconds, data_batch_at (ISO or NULL), data_batch_id, report_id.
UPDATE report_runs SET status = 'Complete', finished_at = now(), as_of = make_timestamptz(?),
    stores = ?, sql_version = ?, seconds = ?, data_batch_at = ?::TIMESTAMPTZ, data_batch_id = ?
WHERE report_id = ?
