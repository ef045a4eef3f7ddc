"""Instants as storemon writes and counts them: one home for each conversion.

- ISO: how answers and pages write an instant (UTC, to the microsecond, `Z`), in Python
  (`iso()`) and in SQL (`strftime(x, ISO)`);
- epoch microseconds, how the report's SQL counts time (`*_us` columns), exactly, never
  through a float: `micros()` and `instant()`;
- a store's week, hundreds of instants, written straight from epoch microseconds: `iso_us()`
  (as ISO) and `local_text()` (the zone's wall clock, as SQL's macro of that name writes it,
  sql/report/00_report_macros.sql, given the zone's offset from its `zone_offset_us`).
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta

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


def iso_us(us: int) -> str:
    """Epoch microseconds as ISO text: iso(instant(us)), a few times faster."""
    seconds, micro = divmod(us, 1_000_000)
    days, seconds = divmod(seconds, 86_400)
    return f"{_date(days)}T{_clock(seconds)}.{micro:06d}Z"


def local_text(at_us: int, offset_us: int) -> str:
    """An instant (epoch us) as the wall clock of a zone `offset_us` ahead of UTC then, to the
    second, with that offset: '2023-01-22 09:15:00-06:00'."""
    days, seconds = divmod((at_us + offset_us) // 1_000_000, 86_400)
    size = abs(offset_us)
    sign = "-" if offset_us < 0 else "+"
    zone = f"{sign}{size // 3_600_000_000:02d}:{size // 60_000_000 % 60:02d}"
    return f"{_date(days)} {_clock(seconds)}{zone}"


@functools.lru_cache(maxsize=4096)  # a week's instants fall on a few dates
def _date(days: int) -> str:
    return (_EPOCH_DATE + timedelta(days=days)).isoformat()


@functools.cache  # at most 86,400 of them
def _clock(seconds: int) -> str:
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}"


_EPOCH_DATE = date(1970, 1, 1)
