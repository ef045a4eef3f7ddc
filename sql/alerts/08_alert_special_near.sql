-- Makes: alert_named without the special dates no store's state can change through (run for a
-- batch of special hours, after sql/alerts/07_alert_hours_changed.sql).
-- Rules: "Alerts" (sql/README.md): a batch of special hours changes only the intervals of the
-- dates it names: a store's state can change only if it has a poll near one of them (an interval
-- opening on local date D lies within D - 1 day and D + 3 days in UTC), or if its outage's start
-- is looked for across one. The others' polls are not read again.
-- Needs: alert_named (sql/alerts/06_alert_named.sql), polls, alert_state.

DELETE FROM alert_named
WHERE store_key NOT IN (
    SELECT named.store_key
    FROM alert_named AS named
    JOIN polls
      ON polls.store_key = named.store_key
     AND epoch_us(polls.timestamp_utc) BETWEEN named.date_us - 2 * 86400000000
                                           AND named.date_us + 3 * 86400000000
    WHERE polls.timestamp_utc
          >= make_timestamptz((SELECT min(date_us) FROM alert_named) - 2 * 86400000000)
    UNION
    SELECT named.store_key
    FROM alert_named AS named
    JOIN alert_state AS state
      ON state.store_key = named.store_key
     AND state.run_polls > 0
     AND named.date_us BETWEEN coalesce((state.prior_us + state.run_first_us) // 2,
                                        state.run_first_us - 168 * 3600000000) - 3 * 86400000000
                           AND state.run_first_us + 3 * 86400000000
);
