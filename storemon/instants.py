"""Instants as storemon writes and counts them: one home for each conversion.

- ISO: how answers and pages write an instant (UTC, to the microsecond, `Z`), in Python
  (`iso()`) and in SQL (`strftime(x, ISO)`);
- epoch microseconds, how the report's SQL counts time (`*_us` columns), exactly, never
  through a float: `micros()` and `instant()`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

ISO = "%Y-%m-%dT%H:%M:%S.%fZ"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(ISO)


def micros(moment: datetime) -> int:
    """An instant as epoch microseconds."""
    return (moment - EPOCH) // MICROSECOND


def instant(us: int) -> datetime:
    """Epoch microseconds as an instant (UTC)."""
    return EPOCH + us * MICROSECOND
