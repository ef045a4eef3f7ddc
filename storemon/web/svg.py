"""Pictures drawn by the server as inline SVG: no script, no library, a few kilobytes.

Only drawing happens here; every instant and number comes from the report's SQL (a store's
week, sql/store/; the report's rows).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from html import escape
from zoneinfo import ZoneInfo

from storemon.store_week import SpecialDay, StoreWeek
from storemon.zones import zone_of

WIDTH, HEIGHT = 960, 150
LEFT, RIGHT = 8, 8


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def histogram(bins: list[int], width: int = 420, height: int = 140) -> str:
    """Stores by weekly uptime %, one bar per bin (0-10 % ... 90-100 %)."""
    top = max(bins, default=0) or 1
    bar = (width - 20) / len(bins)
    chart = height - 36
    parts = [
        f'<svg class="histogram" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="stores by weekly uptime">'
    ]
    for i, count in enumerate(bins):
        h = round(chart * count / top, 1)
        x = round(10 + i * bar, 1)
        label = f"{i * 10}-{i * 10 + 10}% uptime: {count} stores"
        parts.append(
            f'<g class="bin"><title>{label}</title>'
            f'<rect x="{x + 2}" y="{16 + chart - h}" width="{round(bar - 4, 1)}" height="{h}"/>'
            f'<text x="{round(x + bar / 2, 1)}" y="{12 + chart - h}">{count}</text></g>'
        )
    for i in range(0, len(bins) + 1, len(bins) // 2):
        parts.append(
            f'<text class="axis" x="{round(10 + i * bar, 1)}" y="{height - 6}">{i * 10}%</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def timeline(week: StoreWeek) -> str:
    """The store's week: business intervals shaded, its outages' down time in red (one group
    per outage), its polls as marks coloured by status (hollow: taken while closed, so not
    evidence), day lines at its local midnights, its special days banded and labelled (closed
    all day, or other hours: why it was closed then), and `now` at the right edge."""
    start, end = when(week.week_start), when(week.as_of)
    span = (end - start).total_seconds() or 1
    zone = zone_of(week.timezone)

    def x(moment: datetime) -> float:
        clipped = min(max(moment, start), end)
        return round(LEFT + (WIDTH - LEFT - RIGHT) * (clipped - start).total_seconds() / span, 1)

    parts = [
        f'<svg class="timeline" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-label="the store\'s week">'
    ]
    for special in week.special_days:  # under the day lines
        parts.append(special_band(special, zone, x))
    # local midnights
    day = start.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    while day <= end:
        if day >= start:
            at = x(day)
            parts.append(f'<line class="day" x1="{at}" x2="{at}" y1="14" y2="{HEIGHT - 20}"/>')
            if at < WIDTH - 50:  # room for its label
                parts.append(f'<text class="axis" x="{at + 3}" y="{HEIGHT - 6}">{day:%a %d}</text>')
        day += timedelta(days=1)  # wall-clock arithmetic: the next local midnight
    intervals = [(when(i.opens_at), when(i.closes_at)) for i in week.business_intervals]
    for opens, closes in intervals:
        parts.append(
            f'<rect class="open" x="{x(opens)}" y="30" width="{round(x(closes) - x(opens), 1)}" '
            'height="60"><title>open</title></rect>'
        )
    for number, outage in enumerate(week.outages, 1):
        began, ended = when(outage.started_at), when(outage.ended_at)
        title = escape(
            f"outage {number}: {outage.started_at_local} to {outage.ended_at_local}, "
            f"{outage.down_hours:.2f} h down"
        )
        parts.append(f'<g class="outage" data-outage="{number}"><title>{title}</title>')
        for opens, closes in intervals:
            a, b = max(began, opens), min(ended, closes)
            if a < b:
                parts.append(
                    f'<rect x="{x(a)}" y="30" width="{max(round(x(b) - x(a), 1), 1)}" height="60"/>'
                )
        parts.append("</g>")
    for poll in week.polls:
        at = x(when(poll.taken_at))
        status = "up" if poll.active else "down"
        kind = "evidence" if poll.evidence else "closed"
        title = escape(f"{poll.taken_at_local}: {'active' if poll.active else 'inactive'}")
        y = 102 if poll.active else 112
        parts.append(
            f'<circle class="poll {status} {kind}" cx="{at}" cy="{y}" r="3">'
            f"<title>{title}</title></circle>"
        )
    now = x(end)
    parts.append(
        f'<line class="now" x1="{now}" x2="{now}" y1="10" y2="{HEIGHT - 20}"/>'
        f'<text class="now" x="{now - 4}" y="10" text-anchor="end">now</text>'
        "</svg>"
    )
    return "".join(parts)


def special_band(special: SpecialDay, zone: ZoneInfo, x: Callable[[datetime], float]) -> str:
    """A special date as a band over its local day (midnight to midnight, in the store's zone,
    clipped to the week), saying what applied instead of the weekly hours."""
    local = date.fromisoformat(special.date)
    begins = datetime.combine(local, time(), zone)
    ends = datetime.combine(local + timedelta(days=1), time(), zone)
    said = "closed all day" if special.closed else "open " + ", ".join(special.hours) + " only"
    title = escape(f"{local:%a %d %b}: {said} (special hours, not the weekly ones)")
    left, right = x(begins), x(ends)
    kind = "closed" if special.closed else "hours"
    parts = [
        f'<g class="special {kind}" data-date="{special.date}"><title>{title}</title>',
        f'<rect x="{left}" y="14" width="{round(right - left, 1)}" height="{HEIGHT - 34}"/>',
    ]
    labels = ("closed: special hours", "closed") if special.closed else ("special hours", "special")
    label = next((text for text in labels if right - left >= 6 * len(text) + 6), None)
    if label:  # the longest one with room (11 px type)
        parts.append(f'<text x="{round(left + 3, 1)}" y="26">{label}</text>')
    parts.append("</g>")
    return "".join(parts)
