"""Alerts: who is down now (sql/README.md, "Alerts").

- events.py  the events a batch makes, in the batch's own transaction (sql/alerts/)
- reads.py   what the service answers with: events after a seq, the down-now board, a store's
             events
Their delivery to webhooks and Apprise targets is storemon/notify/.
"""

from storemon.alerts.events import (
    DEFAULT_ALERT_AFTER,
    KINDS_WITH_EVENTS,
    alert_tables,
    baseline,
    record_events,
    report_macros,
)

__all__ = [
    "DEFAULT_ALERT_AFTER",
    "KINDS_WITH_EVENTS",
    "alert_tables",
    "baseline",
    "record_events",
    "report_macros",
]
