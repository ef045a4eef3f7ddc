"""An independent, deliberately plain implementation of ../shared/SPEC.md, to check the SQL.

No SQL, no cleverness: lists, loops and `zoneinfo`. Instants are integer microseconds since the
epoch (UTC). Slow on purpose-built inputs only, which is all it is used on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

US = 1_000_000
HOUR = 3600 * US
DEFAULT_ZONE = "America/Chicago"


@dataclass(frozen=True)
class Poll:
    store_id: str
    at: datetime  # aware, any zone
    active: bool


@dataclass(frozen=True)
class Hours:
    store_id: str
    day: int  # 0 = Monday
    start: timedelta  # from local midnight
    end: timedelta  # may be 24 h


def clock(text: str) -> timedelta:
    """`HH:MM` or `HH:MM:SS` (24:00 allowed) as time since midnight."""
    hours, minutes, *seconds = (int(part) for part in text.split(":"))
    return timedelta(hours=hours, minutes=minutes, seconds=seconds[0] if seconds else 0)


def micros(moment: datetime) -> int:
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * US + delta.microseconds


def local_to_micros(local: datetime, zone: ZoneInfo) -> int:
    """SPEC: a repeated local time is the later instant; a skipped one is read with the offset in
    force before the jump. For zoneinfo, fold=0 of a skipped time uses the earlier offset and
    fold=1 of a repeated time is the later instant, so both rules are the later of the two."""
    return max(
        micros(local.replace(tzinfo=zone, fold=0)), micros(local.replace(tzinfo=zone, fold=1))
    )


def business_intervals(
    rows: list[Hours], zone: ZoneInfo, first: date, last: date
) -> list[list[int]]:
    """Merged [open, close) intervals for every local date from `first` to `last`."""
    if not rows:
        rows = [Hours("", day, timedelta(0), timedelta(0)) for day in range(7)]
    intervals = []
    day = first
    while day <= last:
        midnight = datetime.combine(day, time(0))
        for row in rows:
            if row.day != day.weekday():
                continue
            opens = midnight + row.start
            closes = (
                midnight + row.end
                if row.end > row.start
                else midnight + timedelta(days=1) + row.end
            )
            o, c = local_to_micros(opens, zone), local_to_micros(closes, zone)
            if c > o:
                intervals.append([o, c])
        day += timedelta(days=1)
    intervals.sort()
    merged: list[list[int]] = []
    for o, c in intervals:
        if merged and o <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], c)
        else:
            merged.append([o, c])
    return merged


def overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    return max(0, min(a1, b1) - max(a0, b0))


def store_report(
    polls: list[tuple[int, bool]], rows: list[Hours], zone_name: str, now: int
) -> dict[str, float]:
    zone = ZoneInfo(zone_name)
    week_start = now - 168 * HOUR
    first_day = datetime.fromtimestamp(min(min(t for t, _ in polls), week_start) / US, UTC).date()
    last_day = datetime.fromtimestamp(now / US, UTC).date()
    intervals = business_intervals(
        rows, zone, first_day - timedelta(days=2), last_day + timedelta(days=1)
    )

    by_instant: dict[int, bool] = {}
    for t, active in polls:
        if any(o <= t < c for o, c in intervals):
            by_instant[t] = by_instant.get(t, True) and active  # inactive wins
    evidence = sorted(by_instant.items())

    result = {}
    for name, start in (("hour", now - HOUR), ("day", now - 24 * HOUR), ("week", week_start)):
        up = down = 0
        for i, (t, active) in enumerate(evidence):
            lo = (evidence[i - 1][0] + t) // 2 if i > 0 else start
            hi = (t + evidence[i + 1][0]) // 2 if i + 1 < len(evidence) else now
            covered = sum(overlap(max(lo, start), min(hi, now), o, c) for o, c in intervals)
            if active:
                up += covered
            else:
                down += covered
        unit = 60 * US if name == "hour" else HOUR
        result[f"uptime_last_{name}"] = up / unit
        result[f"downtime_last_{name}"] = down / unit
    return result


def report(
    polls: list[Poll],
    hours: list[Hours],
    zones: dict[str, str],
    as_of: datetime | None = None,
) -> dict[str, dict[str, float]]:
    """store_id -> unrounded figures, for every store with a poll up to now."""
    if not polls:
        return {}
    now = micros(as_of) if as_of else max(micros(p.at) for p in polls)
    per_store: dict[str, list[tuple[int, bool]]] = {}
    for p in polls:
        if micros(p.at) <= now:
            per_store.setdefault(p.store_id, []).append((micros(p.at), p.active))
    return {
        store_id: store_report(
            store_polls,
            [h for h in hours if h.store_id == store_id],
            zones.get(store_id, DEFAULT_ZONE),
            now,
        )
        for store_id, store_polls in sorted(per_store.items())
    }
