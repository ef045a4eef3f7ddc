"""GET /metrics: what people on call watch, in Prometheus' text format (prometheus-client).

Two kinds of figures. What the service measures as it works (batches and reports, and how long
each took) are histograms kept in this process since it started. What the data says (stores
down now, events by kind, reports by status, deliveries, the latest poll) is read from the
database at each scrape, so it is true across restarts. Each service has its own registry:
two services in one process (the tests) never share a figure.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Histogram, disable_created_metrics, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
disable_created_metrics()  # (the *_created series: noise for a service's own figures)

BATCH_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
REPORT_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


@dataclass(frozen=True)
class Figures:
    """What the data says now, asked of the service at each scrape."""

    down_now: Callable[[], tuple[int, dict[str, int]]]
    events_by_kind: Callable[[], dict[str, int]]
    reports_by_status: Callable[[], dict[str, int]]
    deliveries: Callable[[], dict[str, dict[str, int]]]
    latest_poll_us: Callable[[], int | None]
    last_batch_us: Callable[[], int | None]


class _DataCollector(Collector):
    def __init__(self, figures: Figures) -> None:
        self.figures = figures

    def collect(self) -> Iterable[Metric]:
        total, per_group = self.figures.down_now()
        down = GaugeMetricFamily(
            "storemon_stores_down_now", "Stores down while open now (all stores)"
        )
        down.add_metric([], total)
        yield down
        by_group = GaugeMetricFamily(
            "storemon_group_stores_down_now",
            "Stores down while open now, per group",
            labels=["group"],
        )
        for group, count in sorted(per_group.items()):
            by_group.add_metric([group], count)
        yield by_group
        events = CounterMetricFamily(
            "storemon_alert_events", "Alert events made, by kind", labels=["kind"]
        )
        made = self.figures.events_by_kind()
        for kind in ("down", "up"):
            events.add_metric([kind], made.get(kind, 0))
        yield events
        statuses = self.figures.reports_by_status()
        reports = GaugeMetricFamily("storemon_reports", "Reports by status", labels=["status"])
        for status in ("Queued", "Running", "Complete", "Failed", "Removed"):
            reports.add_metric([status], statuses.get(status, 0))
        yield reports
        waiting = GaugeMetricFamily("storemon_reports_waiting", "Reports queued or running")
        waiting.add_metric([], statuses.get("Queued", 0) + statuses.get("Running", 0))
        yield waiting
        deliveries = GaugeMetricFamily(
            "storemon_deliveries",
            "Alert deliveries by target and status",
            labels=["target", "status"],
        )
        for target, counts in sorted(self.figures.deliveries().items()):
            for status in ("pending", "delivered", "failed"):
                deliveries.add_metric([target, status], counts.get(status, 0))
        yield deliveries
        latest = self.figures.latest_poll_us()
        if latest is not None:
            poll = GaugeMetricFamily(
                "storemon_latest_poll_timestamp_seconds", "The latest poll's time (Unix seconds)"
            )
            poll.add_metric([], latest / 1e6)
            yield poll
            age = GaugeMetricFamily(
                "storemon_data_age_seconds", "Seconds since the latest poll was taken"
            )
            age.add_metric([], max(time.time() - latest / 1e6, 0.0))
            yield age
        batch = self.figures.last_batch_us()
        if batch is not None:
            last = GaugeMetricFamily(
                "storemon_last_batch_timestamp_seconds",
                "When the last load or batch came in (Unix seconds)",
            )
            last.add_metric([], batch / 1e6)
            yield last


class Metrics:
    """The service's registry: its own measurements and the data's figures."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.batch_seconds = Histogram(
            "storemon_batch_duration_seconds",
            "Appended batches (committed) and how long each took, by kind",
            ["kind"],
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.report_seconds = Histogram(
            "storemon_report_duration_seconds",
            "Reports computed by this process and how long each took",
            buckets=REPORT_BUCKETS,
            registry=self.registry,
        )

    def read_data_with(self, figures: Figures) -> None:
        self.registry.register(_DataCollector(figures))

    def text(self) -> bytes:
        return generate_latest(self.registry)


def owner_text(per_group: dict[str, int], groups: frozenset[str]) -> bytes:
    """/metrics for a key of some groups: its groups' stores down now, and nothing of others'."""
    registry = CollectorRegistry(auto_describe=False)

    class _Owner(Collector):
        def collect(self) -> Iterable[Metric]:
            family = GaugeMetricFamily(
                "storemon_group_stores_down_now",
                "Stores down while open now, per group",
                labels=["group"],
            )
            for group in sorted(groups):
                family.add_metric([group], per_group.get(group, 0))
            yield family

    registry.register(_Owner())
    return generate_latest(registry)
