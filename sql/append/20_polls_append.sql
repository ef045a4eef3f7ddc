-- Makes: polls — adds a batch of polls: a (store, instant) not seen before is inserted; one seen
-- before turns inactive if the batch says inactive, and is otherwise left as it is.
-- Rules: "Updates": the stored polls are the union of every batch; across batches as within one,
-- polls of a store at one instant count once with `inactive` winning. So the order and the
-- split of batches never matter.
-- Needs: poll_rows (the batch, parsed by sql/load/10_poll_rows.sql), stores, polls.

MERGE INTO polls
USING (
    SELECT stores.store_key, poll_rows.timestamp_utc, bool_and(poll_rows.active) AS active
    FROM poll_rows
    JOIN stores USING (store_id)
    WHERE poll_rows.reason IS NULL
    GROUP BY ALL
) AS batch
ON polls.store_key = batch.store_key AND polls.timestamp_utc = batch.timestamp_utc
WHEN MATCHED AND NOT batch.active AND polls.active THEN UPDATE SET active = false
WHEN NOT MATCHED THEN INSERT (store_key, timestamp_utc, active)
    VALUES (batch.store_key, batch.timestamp_utc, batch.active);
