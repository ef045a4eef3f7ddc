"""What the service keeps and how much it takes on: its limits, set by `storemon serve`'s
options and shown in /health."""

from __future__ import annotations

import os

import msgspec

from storemon.append import BatchRetention


class Limits(msgspec.Struct, frozen=True):
    """What the service keeps and how much it takes on (shown in /health)."""

    keep_reports: int | None = 100
    """Finished reports kept; older ones' rows and files are removed (None: all)."""
    keep_report_days: float | None = None
    """Finished reports older than this are removed (None: no age limit)."""
    max_waiting: int = 100
    """Computations queued or running at once; a trigger beyond it is refused (503)."""
    keep_days: int | None = None
    """Polls older than the latest poll minus this many days are dropped after each batch."""
    keep_batches: int | None = 10_000
    """Appended batches the batch log remembers (row, Idempotency-Key, rejected rows)."""
    keep_batch_days: float | None = 30
    """Appended batches older than this many days are forgotten likewise (None: no limit)."""

    def batch_retention(self) -> BatchRetention:
        return BatchRetention(keep=self.keep_batches, days=self.keep_batch_days)


def usable_cores() -> int:
    """The cores this process may use: its CPU affinity, or every core where the system does
    not say (macOS)."""
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return len(usable) if usable else os.cpu_count() or 1
