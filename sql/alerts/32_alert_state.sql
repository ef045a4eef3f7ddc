-- Makes: alert_state — the state of the stores of alert_next replaced by their state after, or
-- added (last_us NULL: a store with no evidence poll). At a full load (variable alert_baseline)
-- `down` is left undecided (NULL): the first batch decides it with its K.
-- Rules: "Alerts" (sql/README.md): what the next batch needs to tell whether the store is down
-- now without reading its history again (sql/alerts/01_alert_tables.sql).
-- Variables: alert_baseline.
-- Needs: alert_next (sql/alerts/20_alert_next_state.sql, 30_alert_starts.sql), alert_state.

INSERT INTO alert_state
SELECT
    alert_next.store_key,
    next_last_us,
    next_run_polls,
    next_run_first_us,
    next_prior_us,
    if(getvariable('alert_baseline'), NULL, down_after),
    if(next_run_polls > 0, coalesce(started_us, started_before_us), NULL)
FROM alert_next
ON CONFLICT DO UPDATE SET
    last_us = excluded.last_us,
    run_polls = excluded.run_polls,
    run_first_us = excluded.run_first_us,
    prior_us = excluded.prior_us,
    down = excluded.down,
    started_us = excluded.started_us;
