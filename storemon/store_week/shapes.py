"""What a store's week holds, and how its business intervals and polls are written: from epoch
microseconds and the zone's offsets (sql/store/), here, the same for a week computed and a week
kept (a few hundred instants; in SQL each conversion in a list costs more than the whole read)."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from storemon.instants import iso_us, local_text


class Outage(msgspec.Struct):
    """One row of the report's outages file, without its store_id."""

    started_at: str
    ended_at: str
    started_at_local: str
    ended_at_local: str
    down_hours: float
    polls: int
    ongoing: bool
    began_before_week: bool
    down_us: int
    down_us_last_day: int
    down_us_last_hour: int


class Interval(msgspec.Struct):
    opens_at: str
    closes_at: str
    opens_at_local: str
    closes_at_local: str


class WeekPoll(msgspec.Struct):
    taken_at: str
    taken_at_local: str
    active: bool
    evidence: bool
    """Taken while the store was open: only these say anything (sql/README.md, rule 4)."""
    stands_from: str | None
    """The stretch of the week this poll stands for (sql/README.md, rule 5; null: not
    evidence)."""
    stands_to: str | None


class SpecialDay(msgspec.Struct):
    """A special date of the store in the week (sql/README.md, rule 3a)."""

    date: str
    closed: bool
    """No special row with times: closed all day."""
    hours: list[str]
    """Its special hours, HH:MM-HH:MM, local time."""


class StoreWeek(msgspec.Struct):
    report_id: str
    store_id: str
    as_of: str
    week_start: str
    timezone: str
    timezone_is_default: bool
    """No usable time-zone row: America/Chicago (sql/README.md, rule 2 (defaults))."""
    open_all_week: bool
    """No usable business-hours row: open 24 hours, 7 days (sql/README.md, rule 2 (defaults))."""
    report: dict[str, float]
    """The store's row of the report."""
    summary: dict[str, float | int | bool | str | None]
    """How often it went down: its row of the outage summary."""
    outages: list[Outage]
    business_intervals: list[Interval]
    """Its merged business intervals that overlap the week, whole."""
    polls: list[WeekPoll]
    """Its polls taken in the week, and evidence polls before it whose span reaches into it."""
    special_days: list[SpecialDay]
    """Its special dates in the week: its weekly hours did not apply on them."""
    data_changed: bool
    """Data came in after the report: intervals and polls are from the data as it is now."""


# The columns of sql/store/'s views that the two below write, in their order.
INTERVAL_US = ("open_us", "close_us", "open_offset_us", "close_offset_us")
POLL_US = ("at_us", "offset_us", "active", "evidence", "from_us", "to_us")


def intervals(rows: Iterable[tuple[int, int, int, int]]) -> list[Interval]:
    """Business intervals, each (INTERVAL_US), as shown."""
    return [
        Interval(
            iso_us(opens), iso_us(closes), local_text(opens, at_open), local_text(closes, at_close)
        )
        for opens, closes, at_open, at_close in rows
    ]


def polls(rows: Iterable[tuple[int, int, bool, bool, int | None, int | None]]) -> list[WeekPoll]:
    """Polls, each (POLL_US), as shown."""
    return [
        WeekPoll(
            iso_us(at),
            local_text(at, offset),
            active,
            evidence,
            None if stands_from is None else iso_us(stands_from),
            None if stands_to is None else iso_us(stands_to),
        )
        for at, offset, active, evidence, stands_from, stands_to in rows
    ]
