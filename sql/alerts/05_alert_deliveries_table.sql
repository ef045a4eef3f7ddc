-- Makes: alert_targets and alert_deliveries, if missing (tables): the outbox of the alert
-- events' delivery (storemon/notify/).
--   alert_targets: each target the service has delivered to (its name: the URL with secrets
--     left out, and the group it is limited to), and the last event seq queued for it: a
--     target first seen starts after the events there were then.
--   alert_deliveries: one row per (target, event): `pending` until delivered, `delivered`, or
--     `failed` (retried for `give_up_after`, then left with its last error). A target's
--     events go in seq order: the oldest pending one first, the others wait behind it.
-- Rules: "Alerts" (sql/README.md): delivery is at least once; receivers de-duplicate by id.
-- Needs: nothing.

CREATE TABLE IF NOT EXISTS alert_targets (
    target VARCHAR PRIMARY KEY,
    queued_seq BIGINT NOT NULL,
    added_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS alert_deliveries (
    target VARCHAR NOT NULL,
    seq BIGINT NOT NULL,
    status VARCHAR NOT NULL,             -- 'pending', 'delivered' or 'failed'
    attempts INTEGER NOT NULL,
    first_tried_at TIMESTAMPTZ,
    next_try_at TIMESTAMPTZ,
    last_error VARCHAR,
    delivered_at TIMESTAMPTZ,
    PRIMARY KEY (target, seq)
);
