-- Makes: nothing (a statement on report_runs): A report that shared a computation: Complete as its leader is. Parameters: leader, follower.
UPDATE report_runs AS follower SET status = 'Complete',
    started_at = coalesce(follower.started_at, now()), finished_at = now(),
    as_of = leader.as_of, stores = leader.stores, sql_version = leader.sql_version,
    seconds = leader.seconds, data_batch_at = leader.data_batch_at,
    data_batch_id = leader.data_batch_id, error = NULL
FROM report_runs AS leader
WHERE leader.report_id = ? AND follower.report_id = ?
