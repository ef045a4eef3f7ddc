-- Makes: alert_named — the rows of the batch (or load) whose stores' down-now state is decided
-- again, by store_key: at a full load one per store with polls; in a batch of polls each poll
-- (at_us, active), in one of special hours each (store, date) (date_us: the local date's
-- midnight as epoch us), in one of hours or zones each row.
-- Rules: "Alerts" (sql/README.md): only the stores a batch names can change state. A special
-- date more than 3 days after the latest poll changes no store's state (its intervals begin
-- after every poll, and no outage's start is looked for across it: sql/alerts/08) nor any day
-- alert_hours holds (none is after the latest poll's day): holidays sent ahead are left out
-- here, and a batch of them alone costs no more.
-- Needs: alert_batch (the batch's usable rows: store_id, and in a batch of polls the poll's
-- timestamp_utc and active, in one of special hours its local_date, else NULL), stores, polls.

CREATE OR REPLACE TEMP TABLE alert_named AS
SELECT
    stores.store_key,
    stores.store_id,
    epoch_us(alert_batch.timestamp_utc) AS at_us,
    alert_batch.active,
    epoch_us(alert_batch.local_date::TIMESTAMP) AS date_us
FROM alert_batch
JOIN stores USING (store_id)
WHERE alert_batch.local_date IS NULL
   OR epoch_us(alert_batch.local_date::TIMESTAMP)
      <= (SELECT epoch_us(max(timestamp_utc)) FROM polls) + 3 * 86400000000;
