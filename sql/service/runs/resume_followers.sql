-- Makes: nothing (a statement on report_runs): At start: a report waiting on a failed computation fails with it.
UPDATE report_runs AS follower SET status = 'Failed', finished_at = now(), error = leader.error
FROM report_runs AS leader
WHERE follower.computed_by = leader.report_id AND leader.status = 'Failed'
  AND follower.status = 'Queued'
