"""sql/README.md, rule 8 (outages), by hand: each expected value is worked out in the comment beside
it, and each case is also checked against the reference."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests import reference
from tests.test_spec_rules import NY, local, utc

HOUR_US = 3600 * 10**6


def at(text: str) -> int:
    """A UTC instant as epoch microseconds."""
    return reference.micros(utc(text))


def polls_of(rows) -> list[reference.Poll]:
    return [
        reference.Poll(
            store,
            datetime.strptime(when, "%Y-%m-%d %H:%M:%S.%f UTC").replace(tzinfo=UTC),
            status == "active",
        )
        for store, status, when in rows
    ]


def report_and_outages(workspace, status, hours=(), zones=(), as_of=None):
    """Load, report, and check the outages and summary against the reference too."""
    workspace.load(status=status, hours=hours, zones=zones)
    report = workspace.report(as_of)
    outages = workspace.outages()
    summary = workspace.outage_summary()
    expected = reference.outages(
        polls_of(status),
        [reference.Hours(s, d, reference.clock(a), reference.clock(b)) for s, d, a, b in hours],
        dict(zones),
        as_of,
    )
    assert outages == {store: listed for store, listed in expected.items() if listed}
    return report, outages, summary


def test_one_outage_over_a_closed_night_counts_only_business_time(workspace):
    # Open 09:00-22:00 every day (New York). Monday 01-09: 20:00 up, 21:30 down; Tuesday: 09:15
    # down, 11:00 up. The two down polls are one outage (no up poll between them). Its down time:
    # from the midpoint 20:45 to closing at 22:00 (1.25 h), and from opening at 09:00 to the
    # midpoint 10:07:30 (1.125 h): 2.375 h; the closed night between is not down time.
    status = [
        ("s1", "active", local(NY, "2023-01-09 20:00")),
        ("s1", "inactive", local(NY, "2023-01-09 21:30")),
        ("s1", "inactive", local(NY, "2023-01-10 09:15")),
        ("s1", "active", local(NY, "2023-01-10 11:00")),
    ]
    hours = [("s1", day, "09:00", "22:00") for day in range(7)]
    report, outages, summary = report_and_outages(
        workspace, status, hours, [("s1", NY)], as_of=utc("2023-01-10 17:00")
    )
    [outage] = outages["s1"]
    assert outage["started_at"] == at("2023-01-10 01:45")  # 20:45 EST
    assert outage["ended_at"] == at("2023-01-10 15:07:30")  # 10:07:30 EST
    assert outage["started_at_local"] == "2023-01-09 20:45:00-05:00"
    assert outage["ended_at_local"] == "2023-01-10 10:07:30-05:00"
    assert outage["down_us"] == int(2.375 * HOUR_US)
    assert outage["polls"] == 2
    assert (outage["ongoing"], outage["began_before_week"]) == (False, False)
    assert report["s1"]["downtime_last_week"] == 2.38  # the same time, rounded
    assert summary["s1"]["outages_last_week"] == 1
    assert summary["s1"]["outages_last_hour"] == 0  # 11:00-12:00 EST is up


def test_an_outage_that_began_before_the_week_starts_at_the_week(workspace):
    # 24x7 in UTC; as of 01-10 12:00 the week starts 01-03 12:00. Down polls on 01-01, 01-05 and
    # 01-09, up on 01-10 00:00: one outage since 01-01, whose down time in the week runs from the
    # week's start to the midpoint 01-09 12:00 (144 h). All three polls are its polls, though the
    # first stands only for time before the week (up to the midpoint 01-03 00:00).
    status = [
        ("s1", "inactive", "2023-01-01 00:00:00.000000 UTC"),
        ("s1", "inactive", "2023-01-05 00:00:00.000000 UTC"),
        ("s1", "inactive", "2023-01-09 00:00:00.000000 UTC"),
        ("s1", "active", "2023-01-10 00:00:00.000000 UTC"),
    ]
    _, outages, summary = report_and_outages(
        workspace, status, zones=[("s1", "UTC")], as_of=utc("2023-01-10 12:00")
    )
    [outage] = outages["s1"]
    assert outage["started_at"] == at("2023-01-03 12:00")
    assert outage["ended_at"] == at("2023-01-09 12:00")
    assert outage["down_us"] == 144 * HOUR_US
    assert outage["polls"] == 3
    assert outage["began_before_week"] is True
    assert outage["down_us_last_day"] == 0  # it ended 24 h before now
    assert summary["s1"]["longest_outage_last_week"] == 144
    assert summary["s1"]["outages_last_day"] == 0


def test_one_down_poll_whose_span_reaches_back_before_the_week_began_before_it(workspace):
    # Up 01-01, down 01-05, up 01-10: the down poll stands for 01-03 00:00 to 01-07 12:00, so the
    # outage began 12 hours before the week (01-03 12:00) and has 96 h of down time in it.
    status = [
        ("s1", "active", "2023-01-01 00:00:00.000000 UTC"),
        ("s1", "inactive", "2023-01-05 00:00:00.000000 UTC"),
        ("s1", "active", "2023-01-10 00:00:00.000000 UTC"),
    ]
    _, outages, _ = report_and_outages(
        workspace, status, zones=[("s1", "UTC")], as_of=utc("2023-01-10 12:00")
    )
    [outage] = outages["s1"]
    assert (outage["started_at"], outage["down_us"]) == (at("2023-01-03 12:00"), 96 * HOUR_US)
    assert (outage["polls"], outage["began_before_week"]) == (1, True)


def test_closed_before_the_week_means_it_began_inside_it(workspace):
    # Open only on Sundays and Thursdays, 00:00-23:00 (UTC). Up Sunday 01-01, down Thursday 01-05,
    # up Sunday 01-08; as of 01-10 12:00 the week starts Tuesday 01-03 12:00. The down poll
    # stands for 01-03 00:00 to 01-06 12:00: it reaches back before the week, but over closed
    # hours only, so the outage began inside the week, when the store opened on 01-05.
    status = [
        ("s1", "active", "2023-01-01 00:00:00.000000 UTC"),
        ("s1", "inactive", "2023-01-05 00:00:00.000000 UTC"),
        ("s1", "active", "2023-01-08 00:00:00.000000 UTC"),
    ]
    _, outages, _ = report_and_outages(
        workspace,
        status,
        hours=[("s1", 6, "00:00", "23:00"), ("s1", 3, "00:00", "23:00")],
        zones=[("s1", "UTC")],
        as_of=utc("2023-01-10 12:00"),
    )
    [outage] = outages["s1"]
    assert (outage["started_at"], outage["ended_at"]) == (
        at("2023-01-05 00:00"),
        at("2023-01-05 23:00"),
    )
    assert (outage["began_before_week"], outage["down_us"]) == (False, 23 * HOUR_US)


def test_an_ongoing_outage_ends_at_now(workspace):
    # 24x7: up 00:00, down 06:00 and 12:00 (the latest poll: now). The outage runs from the
    # midpoint 03:00 to now, 9 h, and is still going on.
    status = [
        ("s1", "active", "2023-01-10 00:00:00.000000 UTC"),
        ("s1", "inactive", "2023-01-10 06:00:00.000000 UTC"),
        ("s1", "inactive", "2023-01-10 12:00:00.000000 UTC"),
    ]
    _, outages, summary = report_and_outages(workspace, status, zones=[("s1", "UTC")])
    [outage] = outages["s1"]
    assert (outage["started_at"], outage["ended_at"]) == (
        at("2023-01-10 03:00"),
        at("2023-01-10 12:00"),
    )
    assert (outage["ongoing"], outage["polls"], outage["down_us"]) == (True, 2, 9 * HOUR_US)
    assert outage["down_us_last_hour"] == HOUR_US
    row = summary["s1"]
    assert (row["down_now"], row["outages_last_hour"], row["longest_outage_last_day"]) == (
        True,
        1,
        9,
    )
    assert row["last_outage_started_at"] == at("2023-01-10 03:00")


def test_an_ongoing_outage_after_closing_ends_at_the_last_business_instant(workspace):
    # Open 00:00-10:00 (UTC): up 00:30, down 06:00, as of 12:00. Down from the midpoint 03:15 to
    # closing at 10:00 (6.75 h): it ends there, and is still ongoing (no later poll says up).
    status = [
        ("s1", "active", "2023-01-10 00:30:00.000000 UTC"),
        ("s1", "inactive", "2023-01-10 06:00:00.000000 UTC"),
    ]
    hours = [("s1", day, "00:00", "10:00") for day in range(7)]
    _, outages, summary = report_and_outages(
        workspace, status, hours, [("s1", "UTC")], as_of=utc("2023-01-10 12:00")
    )
    [outage] = outages["s1"]
    assert (outage["started_at"], outage["ended_at"]) == (
        at("2023-01-10 03:15"),
        at("2023-01-10 10:00"),
    )
    assert (outage["ongoing"], outage["down_us"]) == (True, int(6.75 * HOUR_US))
    assert summary["s1"]["down_now"] is True
    assert summary["s1"]["outages_last_hour"] == 0  # closed 11:00-12:00


def test_an_outage_whose_last_poll_is_now_on_an_opening_instant_is_ongoing(workspace):
    # UTC, open 09:00-19:00 every day. Up Monday 10:00, down 18:00 and Tuesday 09:00 (the latest
    # poll: now, the opening instant). The outage is down from the midpoint 14:00 to closing at
    # 19:00 (5 h); the Tuesday poll stands for no open time before now, but it is one of the
    # outage's polls and the store's last: the outage is ongoing, with 2 polls.
    status = [
        ("s1", "active", "2023-01-09 10:00:00.000000 UTC"),
        ("s1", "inactive", "2023-01-09 18:00:00.000000 UTC"),
        ("s1", "inactive", "2023-01-10 09:00:00.000000 UTC"),
    ]
    hours = [("s1", day, "09:00", "19:00") for day in range(7)]
    report, outages, summary = report_and_outages(workspace, status, hours, [("s1", "UTC")])
    [outage] = outages["s1"]
    assert (outage["started_at"], outage["ended_at"]) == (
        at("2023-01-09 14:00"),
        at("2023-01-09 19:00"),
    )
    assert (outage["ongoing"], outage["polls"], outage["down_us"]) == (True, 2, 5 * HOUR_US)
    assert summary["s1"]["down_now"] is True
    # The week [Tuesday 01-03 09:00, now): six whole days up to Monday 09:00 (60 h), then up
    # 09:00-14:00 and down 14:00-19:00.
    assert (report["s1"]["uptime_last_week"], report["s1"]["downtime_last_week"]) == (65.0, 5.0)


def test_a_down_poll_at_now_on_an_opening_instant_alone_is_no_outage(workspace):
    # The same hours; up Monday 18:00, down Tuesday 09:00 (now, opening). The down poll stands
    # for [Monday 01:30 + ..., now) = [Monday 21:30... closed, so no down time: no outage, not
    # down now; the store is up for all its business time.
    status = [
        ("s1", "active", "2023-01-09 18:00:00.000000 UTC"),
        ("s1", "inactive", "2023-01-10 09:00:00.000000 UTC"),
    ]
    hours = [("s1", day, "09:00", "19:00") for day in range(7)]
    report, outages, summary = report_and_outages(workspace, status, hours, [("s1", "UTC")])
    assert outages == {}
    assert (summary["s1"]["outages_last_week"], summary["s1"]["down_now"]) == (0, False)
    assert (report["s1"]["uptime_last_week"], report["s1"]["downtime_last_week"]) == (70.0, 0.0)


def test_blips_are_separate_outages(workspace):
    # 24x7: up, down, up, down, up, an hour apart from 00:00; as of 04:30. Each down poll is its
    # own outage of one hour (00:30-01:30 and 02:30-03:30); none in the last hour.
    status = [
        ("s1", "active" if hour % 2 == 0 else "inactive", f"2023-01-10 0{hour}:00:00.000000 UTC")
        for hour in range(5)
    ]
    report, outages, summary = report_and_outages(
        workspace, status, zones=[("s1", "UTC")], as_of=utc("2023-01-10 04:30")
    )
    assert [(o["started_at"], o["ended_at"], o["polls"]) for o in outages["s1"]] == [
        (at("2023-01-10 00:30"), at("2023-01-10 01:30"), 1),
        (at("2023-01-10 02:30"), at("2023-01-10 03:30"), 1),
    ]
    row = summary["s1"]
    assert (row["outages_last_week"], row["outages_last_day"], row["outages_last_hour"]) == (
        2,
        2,
        0,
    )
    assert (row["longest_outage_last_week"], row["down_now"]) == (1, False)
    assert report["s1"]["downtime_last_week"] == 2.0  # = the outages' down time


def test_a_store_without_evidence_has_no_outages(workspace):
    # Open 09:00-17:00 New York; its only polls, down, come at night: they say nothing.
    status = [
        ("s1", "inactive", local(NY, "2023-01-09 22:00")),
        ("s1", "inactive", local(NY, "2023-01-10 03:00")),
    ]
    hours = [("s1", day, "09:00", "17:00") for day in range(7)]
    report, outages, summary = report_and_outages(workspace, status, hours, [("s1", NY)])
    assert outages == {}
    assert report["s1"]["downtime_last_week"] == 0
    assert summary["s1"] == {
        "outages_last_hour": 0,
        "outages_last_day": 0,
        "outages_last_week": 0,
        "longest_outage_last_day": 0,
        "longest_outage_last_week": 0,
        "down_now": False,
        "last_outage_started_at": None,
    }


@pytest.mark.parametrize("as_of", [None, "2023-01-10 02:10"])
def test_outage_down_time_adds_up_to_downtime_in_every_window(workspace, as_of):
    # Several stores, outages of every kind; per store and window, the exact sum of the outages'
    # down time, rounded as the report rounds, is the report's downtime.
    status = []
    for number in range(3):
        for step in range(60):
            down = (step * 7 + number) % 5 < 2
            when = f"2023-01-{5 + step // 12:02} {step % 12 * 2:02}:{number * 7:02}:00.000000 UTC"
            status.append((f"s{number}", "inactive" if down else "active", when))
    hours = [("s1", day, "09:00", "21:00") for day in range(5)] + [("s2", 5, "22:00", "02:00")]
    zones = [("s0", "UTC"), ("s1", NY), ("s2", "Asia/Kolkata")]
    report, outages, _ = report_and_outages(
        workspace, status, hours, zones, as_of=utc(as_of) if as_of else None
    )
    assert outages  # the case has outages to add up
    for store, row in report.items():
        listed = outages.get(store, [])
        assert round(sum(o["down_us_last_hour"] for o in listed) / 60e6, 2) == pytest.approx(
            row["downtime_last_hour"]
        )
        assert round(sum(o["down_us_last_day"] for o in listed) / 3600e6, 2) == pytest.approx(
            row["downtime_last_day"]
        )
        assert round(sum(o["down_us"] for o in listed) / 3600e6, 2) == pytest.approx(
            row["downtime_last_week"]
        )
