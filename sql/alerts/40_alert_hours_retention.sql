-- Makes: alert_hours without the days long before the polls' retention cutoff (run after
-- sql/append/50_poll_retention.sql): they are rarely read again, and if one is, the alerts make
-- it again (storemon/alerts/events.py), so what alert_hours holds stays the size of the window.
-- Rules: "Updates" (sql/README.md): retention keeps the polls from the cutoff on and a few
-- before it; an outage's start is looked for at most a week and two days before its first poll.
-- Variables: as_of (the cutoff).
-- Needs: alert_hours.

DELETE FROM alert_hours
WHERE day < epoch_us(getvariable('as_of')) // 86400000000 - 9;
