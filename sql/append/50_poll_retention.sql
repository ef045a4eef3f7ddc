-- Makes: polls — drops the polls older than the latest poll minus `keep_days` days, when that
-- variable is set (retention: a service that runs for months stays the size of its window).
-- Spec: "Updates": retention, when set to N days (N >= 8), deletes polls older than
-- `latest poll - N days`.
-- Needs: polls; variable `keep_days` (NULL: keep everything).

DELETE FROM polls
WHERE getvariable('keep_days') IS NOT NULL
  AND timestamp_utc < (SELECT max(timestamp_utc) FROM polls)
      - to_days(getvariable('keep_days')::INTEGER);
