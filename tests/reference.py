"""An independent, deliberately plain implementation of sql/README.md's rules, to check the SQL.

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


@dataclass(frozen=True)
class Special:
    """A special-hours row: on local date `day`, open from start to end (both None: closed)."""

    store_id: str
    day: date
    start: timedelta | None
    end: timedelta | None


def clock(text: str) -> timedelta:
    """`HH:MM` or `HH:MM:SS` (24:00 allowed) as time since midnight."""
    hours, minutes, *seconds = (int(part) for part in text.split(":"))
    return timedelta(hours=hours, minutes=minutes, seconds=seconds[0] if seconds else 0)


def micros(moment: datetime) -> int:
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * US + delta.microseconds


def local_to_micros(local: datetime, zone: ZoneInfo) -> int:
    """Rule 3: a repeated local time is the later instant; a skipped one is read with the offset in
    force before the jump. For zoneinfo, fold=0 of a skipped time uses the earlier offset and
    fold=1 of a repeated time is the later instant, so both rules are the later of the two."""
    return max(
        micros(local.replace(tzinfo=zone, fold=0)), micros(local.replace(tzinfo=zone, fold=1))
    )


def business_intervals(
    rows: list[Hours], zone: ZoneInfo, first: date, last: date, special: list[Special] = ()
) -> list[list[int]]:
    """Merged [open, close) intervals for every local date from `first` to `last`. On a date with
    special rows, those with times are the day's rows and the weekly rows do not apply."""
    if not rows:
        rows = [Hours("", day, timedelta(0), timedelta(0)) for day in range(7)]
    special_days: dict[date, list[tuple[timedelta, timedelta]]] = {}
    for row in special:
        times = special_days.setdefault(row.day, [])
        if row.start is not None and row.end is not None:
            times.append((row.start, row.end))
    intervals = []
    day = first
    while day <= last:
        midnight = datetime.combine(day, time(0))
        if day in special_days:
            todays = special_days[day]
        else:
            todays = [(row.start, row.end) for row in rows if row.day == day.weekday()]
        for start, end in todays:
            row = Hours("", day.weekday(), start, end)
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


LOOK_BACK = (
    14 * 24 * HOUR
)  # sql/README.md, rule 8 (outages): how far back `began_before_week` looks


@dataclass(frozen=True)
class Store:
    """One store's material for a report: its merged intervals and its evidence polls."""

    intervals: list[list[int]]
    evidence: list[tuple[int, bool]]  # (instant, active), sorted, one per instant
    now: int

    def span(self, i: int) -> tuple[int | None, int | None]:
        """sql/README.md, rule 5 (nearest poll): the stretch poll i stands for (None: unbounded)."""
        t = self.evidence[i][0]
        lo = (self.evidence[i - 1][0] + t) // 2 if i > 0 else None
        hi = (t + self.evidence[i + 1][0]) // 2 if i + 1 < len(self.evidence) else None
        return lo, hi

    def business(self, lo: int, hi: int) -> list[tuple[int, int]]:
        """The business time inside [lo, hi), as pieces."""
        return [(max(lo, o), min(hi, c)) for o, c in self.intervals if max(lo, o) < min(hi, c)]


def store_material(
    polls: list[tuple[int, bool]],
    rows: list[Hours],
    zone_name: str,
    now: int,
    special: list[Special] = (),
) -> Store:
    zone = ZoneInfo(zone_name)
    week_start = now - 168 * HOUR
    first = min(min(t for t, _ in polls), week_start - LOOK_BACK)
    first_day = datetime.fromtimestamp(first / US, UTC).date()
    last_day = datetime.fromtimestamp(now / US, UTC).date()
    intervals = business_intervals(
        rows, zone, first_day - timedelta(days=2), last_day + timedelta(days=1), special
    )
    by_instant: dict[int, bool] = {}
    for t, active in polls:
        if any(o <= t < c for o, c in intervals):
            by_instant[t] = by_instant.get(t, True) and active  # inactive wins
    return Store(intervals, sorted(by_instant.items()), now)


WINDOWS = {"hour": HOUR, "day": 24 * HOUR, "week": 168 * HOUR}


def store_times(store: Store) -> dict[str, int]:
    """sql/README.md, rule 6: up and down time per window, exactly (microseconds)."""
    now = store.now
    result = {}
    for name, length in WINDOWS.items():
        start = now - length
        up = down = 0
        for i, (_, active) in enumerate(store.evidence):
            lo, hi = store.span(i)
            lo = start if lo is None else max(lo, start)
            hi = now if hi is None else min(hi, now)
            covered = sum(b - a for a, b in store.business(lo, hi)) if lo < hi else 0
            if active:
                up += covered
            else:
                down += covered
        result[f"up_{name}_us"], result[f"down_{name}_us"] = up, down
    return result


def unit(window: str) -> int:
    """Rule 7: the hour in minutes, the day and the week in hours."""
    return 60 * US if window == "hour" else HOUR


def store_report(store: Store) -> dict[str, float]:
    times = store_times(store)
    result = {}
    for name in WINDOWS:
        result[f"uptime_last_{name}"] = times[f"up_{name}_us"] / unit(name)
        result[f"downtime_last_{name}"] = times[f"down_{name}_us"] / unit(name)
    return result


def local_text(at: int, zone_name: str) -> str:
    """An instant as wall-clock text in a zone, to the second, with the offset: '... -06:00'."""
    moment = datetime.fromtimestamp(at // US, ZoneInfo(zone_name))
    offset = int(moment.utcoffset().total_seconds()) // 60
    sign = "-" if offset < 0 else "+"
    return f"{moment:%Y-%m-%d %H:%M:%S}{sign}{abs(offset) // 60:02}:{abs(offset) % 60:02}"


def after(pieces: list[tuple[int, int]], start: int) -> int:
    """How much of the pieces lies after `start`."""
    return sum(max(0, b - max(a, start)) for a, b in pieces)


def store_outages(store: Store, zone_name: str) -> list[dict]:
    """sql/README.md, rule 8: runs of consecutive inactive evidence polls, seen through the week."""
    now = store.now
    week_start = now - 168 * HOUR
    runs: list[list[int]] = []  # indexes into store.evidence
    for i, (_, active) in enumerate(store.evidence):
        if active:
            continue
        if i > 0 and not store.evidence[i - 1][1] and runs:
            runs[-1].append(i)
        else:
            runs.append([i])
    outages = []
    for run in runs:
        down: list[tuple[int, int]] = []
        before = 0  # business time the run covers before the week (looking back 14 days)
        for i in run:
            lo, hi = store.span(i)
            lo_in = week_start if lo is None else max(lo, week_start)
            hi_in = now if hi is None else min(hi, now)
            if lo_in < hi_in:
                down += store.business(lo_in, hi_in)
            lo_back = week_start - LOOK_BACK if lo is None else max(lo, week_start - LOOK_BACK)
            hi_back = week_start if hi is None else min(hi, week_start)
            if lo_back < hi_back:
                before += sum(b - a for a, b in store.business(lo_back, hi_back))
        if not down:
            continue
        started, ended = min(a for a, _ in down), max(b for _, b in down)
        outages.append(
            {
                "started_at": started,
                "ended_at": ended,
                "started_at_local": local_text(started, zone_name),
                "ended_at_local": local_text(ended, zone_name),
                "down_us": after(down, week_start),
                "down_us_last_day": after(down, now - 24 * HOUR),
                "down_us_last_hour": after(down, now - HOUR),
                "polls": len(run),
                "ongoing": run[-1] == len(store.evidence) - 1,
                "began_before_week": before > 0,
            }
        )
    return outages


def outage_summary(outages: list[dict]) -> dict:
    """sql/README.md, rule 8: per window, how many outages and the longest (microseconds)."""
    return {
        "outages_last_hour": sum(o["down_us_last_hour"] > 0 for o in outages),
        "outages_last_day": sum(o["down_us_last_day"] > 0 for o in outages),
        "outages_last_week": len(outages),
        "longest_outage_last_day_us": max((o["down_us_last_day"] for o in outages), default=0),
        "longest_outage_last_week_us": max((o["down_us"] for o in outages), default=0),
        "down_now": any(o["ongoing"] for o in outages),
        "last_outage_started_at": max((o["started_at"] for o in outages), default=None),
    }


def stores(
    polls: list[Poll],
    hours: list[Hours],
    zones: dict[str, str],
    as_of: datetime | None = None,
    special: list[Special] = (),
) -> dict[str, tuple[Store, str]]:
    """store_id -> (its material, its zone), for every store with a poll up to now."""
    if not polls:
        return {}
    now = micros(as_of) if as_of else max(micros(p.at) for p in polls)
    per_store: dict[str, list[tuple[int, bool]]] = {}
    for p in polls:
        if micros(p.at) <= now:
            per_store.setdefault(p.store_id, []).append((micros(p.at), p.active))
    found = {}
    for store_id, store_polls in sorted(per_store.items()):
        zone = zones.get(store_id, DEFAULT_ZONE)
        rows = [h for h in hours if h.store_id == store_id]
        days = [d for d in special if d.store_id == store_id]
        found[store_id] = (store_material(store_polls, rows, zone, now, days), zone)
    return found


def outages(
    polls: list[Poll],
    hours: list[Hours],
    zones: dict[str, str],
    as_of: datetime | None = None,
    special: list[Special] = (),
) -> dict[str, list[dict]]:
    """store_id -> its outages with down time in the week, in time order."""
    return {
        store_id: store_outages(store, zone)
        for store_id, (store, zone) in stores(polls, hours, zones, as_of, special).items()
    }


def report(
    polls: list[Poll],
    hours: list[Hours],
    zones: dict[str, str],
    as_of: datetime | None = None,
    special: list[Special] = (),
) -> dict[str, dict[str, float]]:
    """store_id -> unrounded figures, for every store with a poll up to now."""
    return {
        store_id: store_report(store)
        for store_id, (store, _) in stores(polls, hours, zones, as_of, special).items()
    }


def rollups(
    polls: list[Poll],
    hours: list[Hours],
    zones: dict[str, str],
    groups: list[tuple[str, str]],
    as_of: datetime | None = None,
    special: list[Special] = (),
) -> dict[str, dict]:
    """sql/README.md, rule 10: group -> its figures, unrounded: sums over the report's stores in
    it (a store in two groups counts in both); a group with none of them has no row."""
    material = stores(polls, hours, zones, as_of, special)
    members: dict[str, set[str]] = {}
    for store_id, group in groups:
        members.setdefault(group, set()).add(store_id)
    found = {}
    for group, ids in sorted(members.items()):
        inside = sorted(ids & material.keys())
        if not inside:
            continue
        sums = dict.fromkeys(("stores", "stores_with_evidence", "down_now"), 0)
        for store_id in inside:
            store, zone = material[store_id]
            summary = outage_summary(store_outages(store, zone))
            sums["stores"] += 1
            sums["stores_with_evidence"] += bool(store.evidence)
            sums["down_now"] += summary["down_now"]
            for key, value in store_times(store).items():
                sums[key] = sums.get(key, 0) + value
            for name in WINDOWS:
                key = f"outages_last_{name}"
                sums[key] = sums.get(key, 0) + summary[key]
        row = {key: sums[key] for key in ("stores", "stores_with_evidence")}
        for name in WINDOWS:
            up, down = sums[f"up_{name}_us"], sums[f"down_{name}_us"]
            row[f"uptime_last_{name}"] = up / unit(name)
            row[f"downtime_last_{name}"] = down / unit(name)
            row[f"outages_last_{name}"] = sums[f"outages_last_{name}"]
            row[f"uptime_ratio_last_{name}"] = up / (up + down) if up + down else None
        row["down_now"] = sums["down_now"]
        found[group] = row
    return found


# --- sql/README.md, rule 11: who is down now, and the events between two moments ----------
# (for tests/test_alert_property.py and tests/test_alert_reference.py: every instant an integer
# of epoch microseconds)

OUTAGE_LOOK_BACK = 168 * HOUR  # rule 11: a first poll with no evidence before it: a week back


@dataclass(frozen=True)
class Snapshot:
    """The data at one moment (after a full load, or after each batch): every poll, the weekly
    hours, the zones, the special rows."""

    polls: list[Poll]
    hours: list[Hours]
    zones: dict[str, str]
    special: list[Special] = ()


@dataclass(frozen=True)
class DownState:
    """A store's tail of evidence, as rule 11 reads it: its latest evidence poll (`last`), the
    inactive evidence polls that end its history (how many, the first of them), the evidence
    poll before them (`prior`), and where the outage's down time starts (`started`). None where
    there is nothing (no evidence; no inactive tail; no poll before it)."""

    last: int | None
    run_polls: int
    run_first: int | None
    prior: int | None
    started: int | None

    def down(self, k: int) -> bool:
        """Down now: its last k evidence polls are all inactive (fewer than k: not down)."""
        return self.run_polls >= k


NO_EVIDENCE = DownState(None, 0, None, None, None)


def alert_material(
    polls: list[tuple[int, bool]], rows: list[Hours], zone_name: str, special: list[Special] = ()
) -> Store:
    """One store's material for rule 11: all its polls (instant, active) up to the latest, the
    intervals of every local date that can touch them or the week before the first of them,
    and its evidence polls (open <= t < close; one per instant, inactive winning)."""
    first = datetime.fromtimestamp((min(t for t, _ in polls) - OUTAGE_LOOK_BACK) / US, UTC)
    last = datetime.fromtimestamp(max(t for t, _ in polls) / US, UTC)
    intervals = business_intervals(
        rows,
        ZoneInfo(zone_name),
        first.date() - timedelta(days=2),
        last.date() + timedelta(days=1),
        special,
    )
    by_instant: dict[int, bool] = {}
    for t, active in polls:
        if any(o <= t < c for o, c in intervals):
            by_instant[t] = by_instant.get(t, True) and active  # inactive wins
    return Store(intervals, sorted(by_instant.items()), max(t for t, _ in polls))


def first_business_instant(store: Store, m: int) -> int:
    """The first business instant at or after m: min over the intervals [o, c) with c > m of
    max(o, m)."""
    return min(max(o, m) for o, c in store.intervals if c > m)


def business_time(store: Store, lo: int, hi: int) -> int:
    """The business time inside [lo, hi) (0 when hi <= lo), in microseconds."""
    return sum(overlap(lo, hi, o, c) for o, c in store.intervals)


def down_state(store: Store) -> DownState:
    """Rule 11: the store's tail, and the start of its outage's down time: from the midpoint of
    the run's first poll and the evidence poll before it (or a week before the run's first poll
    when there is none), the first business instant."""
    evidence = store.evidence
    if not evidence:
        return NO_EVIDENCE
    first = len(evidence)
    while first > 0 and not evidence[first - 1][1]:
        first -= 1
    run = evidence[first:]
    if not run:
        return DownState(evidence[-1][0], 0, None, None, None)
    run_first = run[0][0]
    prior = evidence[first - 1][0] if first > 0 else None
    m = (prior + run_first) // 2 if prior is not None else run_first - OUTAGE_LOOK_BACK
    return DownState(evidence[-1][0], len(run), run_first, prior, first_business_instant(store, m))


def alert_stores(data: Snapshot) -> dict[str, tuple[Store, DownState]]:
    """store_id -> (its rule-11 material, its down state), for every store with a poll."""
    per_store: dict[str, list[tuple[int, bool]]] = {}
    for p in data.polls:
        per_store.setdefault(p.store_id, []).append((micros(p.at), p.active))
    found = {}
    for store_id, store_polls in sorted(per_store.items()):
        store = alert_material(
            store_polls,
            [h for h in data.hours if h.store_id == store_id],
            data.zones.get(store_id, DEFAULT_ZONE),
            [s for s in data.special if s.store_id == store_id],
        )
        found[store_id] = (store, down_state(store))
    return found


def down_now(data: Snapshot, k: int) -> set[str]:
    """Rule 11: the stores down now with K = k."""
    return {store_id for store_id, (_, state) in alert_stores(data).items() if state.down(k)}


def batch_events(before: Snapshot, after: Snapshot, k: int) -> set[tuple]:
    """Rule 11: the events of a batch that turned `before` into `after`, as tuples
    (kind, store_id, at_us, started_us, polls, down_hours): `down` for a store down now after
    and not before, `up` for one down before and not after (down_hours: the business time,
    after the batch, from the outage's start as it was before to where it ended, rounded to 4
    decimals; None for `down`)."""
    was, now = alert_stores(before), alert_stores(after)
    events = set()
    for store_id in sorted(was.keys() | now.keys()):
        old = was[store_id][1] if store_id in was else NO_EVIDENCE
        store, new = now.get(store_id, (None, NO_EVIDENCE))
        if new.down(k) and not old.down(k):
            events.add(("down", store_id, new.last, new.started, new.run_polls, None))
        elif old.down(k) and not new.down(k):
            evidence = store.evidence if store is not None else []
            # the first active evidence poll after the outage's first poll ended it ...
            ending = [t for t, active in evidence if active and t > old.run_first]
            if ending:
                at = ending[0]
                polls = sum(1 for t, active in evidence if not active and old.run_first <= t < at)
                earlier = [t for t, _ in evidence if t < at]
                # (no evidence poll before it, so no midpoint: the rule does not say; read as
                # when no active poll ended it, up to its last evidence poll before the batch)
                ended = (earlier[-1] + at) // 2 if earlier else old.last
            else:  # ... else its polls are no longer evidence: as it was before the batch
                at = new.last if new.last is not None else old.last
                polls, ended = old.run_polls, old.last
            down_us = business_time(store, old.started, ended) if store is not None else 0
            events.add(("up", store_id, at, old.started, polls, round(down_us / 3.6e9, 4)))
    return events
