"""Delivery of the alert events (storemon/alerts/) to the targets of `storemon serve --notify`.

- targets.py   which targets: a signed JSON POST to an http(s) URL, or any Apprise URL
- signing.py   the secret and the `Storemon-Signature` header a receiver checks
- messages.py  what is sent: the event as JSON, or a line a person reads
- outbox.py    the deliveries' state in the database (sql/alerts/05_alert_deliveries_table.sql)
- deliverer.py one thread per target: in seq order, at least once, retried with backoff

Guide for receivers: docs/alerts.md.
"""

from storemon.notify.deliverer import Notifier
from storemon.notify.targets import Target, parse_targets

__all__ = ["Notifier", "Target", "parse_targets"]
