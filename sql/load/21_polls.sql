-- Makes: polls — the usable polls (poll_instants), stored in (store, instant) order, so that a
-- store's polls lie in few row groups and a scan for one store (its page) skips the others.
-- Rules: the load's inputs and rule 4, as 21_poll_instants.sql decides them.
-- Needs: poll_instants (21_poll_instants.sql).

CREATE OR REPLACE TABLE polls AS
SELECT * FROM poll_instants
ORDER BY store_key, timestamp_utc;
