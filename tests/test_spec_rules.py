"""One or more hand-written cases for every rule of sql/README.md.

Each expected number is worked out by hand in the comment beside it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from storemon.report import COLUMNS
from tests import reference
from tests.conftest import load_rows

NY = "America/New_York"
ZERO = dict.fromkeys(COLUMNS[1:], 0.0)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def local(zone: str, text: str) -> str:
    """A local wall time that occurs once, as the polls file spells it (UTC)."""
    moment = datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def week(row: dict[str, float]) -> tuple[float, float]:
    return row["uptime_last_week"], row["downtime_last_week"]


def test_worked_example_from_the_task(workspace):
    # Monday 2023-01-09, open 09:00-12:00 New York time; polls 10:14 up and 11:15 down.
    # Midpoint 10:44:30: up 09:00-10:44:30 = 1.7417 h, down 10:44:30-12:00 = 1.2583 h.
    workspace.load(
        status=[
            ("s1", "active", local(NY, "2023-01-09 10:14")),
            ("s1", "inactive", local(NY, "2023-01-09 11:15")),
        ],
        hours=[("s1", 0, "09:00", "12:00")],
        zones=[("s1", NY)],
    )
    row = workspace.report(as_of=utc("2023-01-09 18:00"))["s1"]  # 13:00 in New York
    assert week(row) == (1.74, 1.26)
    assert (row["uptime_last_day"], row["downtime_last_day"]) == (1.74, 1.26)
    assert (row["uptime_last_hour"], row["downtime_last_hour"]) == (0.0, 0.0)  # 12:00-13:00 closed


def test_last_hour_is_in_minutes_and_cut_at_now(workspace):
    # Same store, now = 11:30 New York: last hour 10:30-11:30 is up until 10:44:30 (14.5 min),
    # down after (45.5 min). Polls after now (11:45) are ignored.
    workspace.load(
        status=[
            ("s1", "active", local(NY, "2023-01-09 10:14")),
            ("s1", "inactive", local(NY, "2023-01-09 11:15")),
            ("s1", "active", local(NY, "2023-01-09 11:45")),
        ],
        hours=[("s1", 0, "09:00", "12:00")],
        zones=[("s1", NY)],
    )
    row = workspace.report(as_of=utc("2023-01-09 16:30"))["s1"]
    assert (row["uptime_last_hour"], row["downtime_last_hour"]) == (14.5, 45.5)
    # The week [Monday 01-02 11:30, Monday 01-09 11:30) also holds 11:30-12:00 of the previous
    # Monday, which the first poll covers (it stands for all time before it): up 0.5 + 1.74 h;
    # down 10:44:30-11:30 = 0.76 h.
    assert week(row) == (2.24, 0.76)


def test_overnight_hours_over_the_fall_back_night_last_nine_hours(workspace):
    # Saturday 2023-11-04 18:00 EDT (22:00 UTC) to Sunday 02:00 EST (07:00 UTC): 9 real hours.
    workspace.load(
        status=[("s1", "active", "2023-11-05 00:00:00 UTC")],
        hours=[("s1", 5, "18:00", "02:00")],
        zones=[("s1", NY)],
    )
    row = workspace.report(as_of=utc("2023-11-05 17:00"))["s1"]
    assert week(row) == (9.0, 0.0)
    assert row["uptime_last_day"] == 9.0


def test_closing_at_0130_on_the_fall_back_night_means_the_later_0130(workspace):
    # Saturday 20:00 EDT = 00:00 UTC to 01:30 EST = 06:30 UTC: 6.5 h open.
    # A poll at 01:45 EDT (05:45 UTC, the first pass of 01:45) is before closing: evidence.
    # Up 00:30 UTC, down 05:45 UTC; midpoint 03:07:30: up 3.125 h, down 3.375 h.
    workspace.load(
        status=[
            ("s1", "active", "2023-11-05 00:30:00 UTC"),
            ("s1", "inactive", "2023-11-05 05:45:00 UTC"),
        ],
        hours=[("s1", 5, "20:00", "01:30")],
        zones=[("s1", NY)],
    )
    row = workspace.report(as_of=utc("2023-11-05 12:00"))["s1"]
    assert week(row) == (3.13, 3.38)  # 3.125 and 3.375, rounded half away from zero


def test_a_0230_boundary_on_the_spring_forward_night(workspace):
    # 02:30 does not exist on 2023-03-12 in New York; it is read with EST (before the jump):
    # 07:30 UTC. Closing at 02:30: Saturday 20:00 EST (01:00 UTC) to 07:30 UTC = 6.5 h.
    # Opening at 02:30 on Sunday until 10:00 EDT (14:00 UTC) = 6.5 h.
    # Open 02:15-03:00: 07:15 UTC to 03:00 EDT = 07:00 UTC is empty: no business time at all.
    workspace.load(
        status=[
            ("closes", "active", "2023-03-12 02:00:00 UTC"),
            ("opens", "inactive", "2023-03-12 08:00:00 UTC"),
            ("empty", "active", "2023-03-12 07:10:00 UTC"),
        ],
        hours=[
            ("closes", 5, "20:00", "02:30"),
            ("opens", 6, "02:30", "10:00"),
            ("empty", 6, "02:15", "03:00"),
        ],
        zones=[("closes", NY), ("opens", NY), ("empty", NY)],
    )
    rows = workspace.report(as_of=utc("2023-03-12 20:00"))
    assert week(rows["closes"]) == (6.5, 0.0)
    assert week(rows["opens"]) == (0.0, 6.5)
    assert rows["empty"] == ZERO


def test_a_day_with_three_intervals(workspace):
    # Monday 07-10, 11-14:30, 17-22 (Chicago by default): 3 + 3.5 + 5 = 11.5 h.
    # Polls: 08:00 up, 12:00 down, 19:00 up. Midpoints 10:00 and 15:30.
    # Up: 07-10 (3 h) + 17-22 (5 h) = 8; down: 11-14:30 = 3.5.
    chicago = "America/Chicago"
    workspace.load(
        status=[
            ("s1", "active", local(chicago, "2023-01-09 08:00")),
            ("s1", "inactive", local(chicago, "2023-01-09 12:00")),
            ("s1", "active", local(chicago, "2023-01-09 19:00")),
        ],
        hours=[
            ("s1", 0, "07:00", "10:00"),
            ("s1", 0, "11:00", "14:30"),
            ("s1", 0, "17:00", "22:00"),
        ],
    )
    row = workspace.report(as_of=utc("2023-01-10 12:00"))["s1"]
    assert week(row) == (8.0, 3.5)


def test_overlapping_rows_are_merged(workspace):
    # 10-16 and 15-23:30 on Monday: 10:00-23:30 = 13.5 h, not 14.5; 10-16 twice counts once.
    workspace.load(
        status=[("s1", "active", local(NY, "2023-01-09 12:00"))],
        hours=[
            ("s1", 0, "10:00", "16:00"),
            ("s1", 0, "15:00", "23:30"),
            ("s1", 0, "10:00", "16:00 "),
        ],
        zones=[("s1", NY)],
    )
    assert week(workspace.report(as_of=utc("2023-01-10 12:00"))["s1"]) == (13.5, 0.0)


def test_touching_rows_and_an_overnight_row_into_the_next_day_merge(workspace):
    # Monday 18:00-02:00 and Tuesday 02:00-04:00: one interval Monday 18:00 to Tuesday 04:00 (10 h).
    workspace.load(
        status=[("s1", "inactive", local(NY, "2023-01-09 19:00"))],
        hours=[("s1", 0, "18:00", "02:00"), ("s1", 1, "02:00", "04:00")],
        zones=[("s1", NY)],
    )
    assert week(workspace.report(as_of=utc("2023-01-11 00:00"))["s1"]) == (0.0, 10.0)


def test_polls_outside_business_hours_say_nothing(workspace):
    # All polls fall outside 09-12 Monday: the store has no evidence: all zeros, but a row.
    workspace.load(
        status=[
            ("s1", "inactive", local(NY, "2023-01-09 08:59:59")),
            ("s1", "inactive", local(NY, "2023-01-09 12:00")),
        ],  # close is exclusive
        hours=[("s1", 0, "09:00", "12:00")],
        zones=[("s1", NY)],
    )
    assert workspace.report(as_of=utc("2023-01-10 00:00")) == {"s1": ZERO}


def test_a_poll_at_the_opening_instant_is_evidence(workspace):
    workspace.load(
        status=[("s1", "inactive", local(NY, "2023-01-09 09:00"))],
        hours=[("s1", 0, "09:00", "12:00")],
        zones=[("s1", NY)],
    )
    assert week(workspace.report(as_of=utc("2023-01-10 00:00"))["s1"]) == (0.0, 3.0)


# UTC; open Saturday 09-22 and Sunday 09-19. Up Saturday 12:00, down Sunday 09:00 (the latest
# poll: now, the opening instant). The down poll stands for [Saturday 22:30, now): closed
# throughout, so no downtime; the up poll stands for all before 22:30: Saturday's 13 h (the day)
# and the Sunday a week before, 10 h (the week: from Sunday 04-20 09:00).
OPENING_AT_NOW = {
    "status": [("C", "active", "2025-04-26 12:00:00"), ("C", "inactive", "2025-04-27 09:00:00")],
    "hours": [("C", 5, "09:00:00", "22:00:00"), ("C", 6, "09:00:00", "19:00:00")],
    "zones": [("C", "UTC")],
}
OPENING_AT_NOW_ROW = {
    "uptime_last_hour": 0.0,
    "uptime_last_day": 13.0,
    "uptime_last_week": 23.0,
    "downtime_last_hour": 0.0,
    "downtime_last_day": 0.0,
    "downtime_last_week": 0.0,
}


def test_a_poll_at_now_on_an_opening_instant_is_evidence_though_its_span_holds_no_open_time(
    workspace,
):
    workspace.load(**OPENING_AT_NOW)
    assert workspace.report()["C"] == OPENING_AT_NOW_ROW
    # Nothing to note: the store has evidence and business time in the week.
    notes = dict(workspace.query("SELECT finding, stores FROM report_notes"))
    assert notes == {
        "no business time in the week": 0,
        "no poll inside business hours": 0,
        "special hours in the week": 0,
    }


def test_a_store_with_evidence_never_open_in_the_week_is_noted_as_such(workspace):
    # Open Sundays 02:00-03:00 New York only. On the spring-forward Sunday 2023-03-12 both ends
    # are 07:00 UTC (02:00 does not exist: read with the offset before the jump), so the week
    # [03-05 09:00, 03-12 09:00) UTC holds no business time. s1's poll on Sunday 03-05 02:30 EST
    # is evidence (its span covers the week); s2's, at 04:00, is not.
    workspace.load(
        status=[("s1", "active", "2023-03-05 07:30:00"), ("s2", "active", "2023-03-05 09:00:00")],
        hours=[("s1", 6, "02:00", "03:00"), ("s2", 6, "02:00", "03:00")],
        zones=[("s1", NY), ("s2", NY)],
    )
    assert workspace.report(as_of=utc("2023-03-12 09:00")) == {"s1": ZERO, "s2": ZERO}
    assert workspace.notes() == {
        "no business time in the week": (1, ["s1"]),
        "no poll inside business hours": (1, ["s2"]),
        "special hours in the week": (0, []),
    }


def test_only_in_hours_polls_are_evidence_even_when_nearer(workspace):
    # Open 09-12 Monday; polls 11:00 up (in hours) and 12:30 down (closed: ignored).
    # Without the closed poll the in-hours poll covers the whole 3 h.
    workspace.load(
        status=[
            ("s1", "active", local(NY, "2023-01-09 11:00")),
            ("s1", "inactive", local(NY, "2023-01-09 12:30")),
        ],
        hours=[("s1", 0, "09:00", "12:00")],
        zones=[("s1", NY)],
    )
    assert week(workspace.report(as_of=utc("2023-01-10 00:00"))["s1"]) == (3.0, 0.0)


def test_store_without_hours_is_open_24x7(workspace):
    # A week of hourly polls, one inactive: up + down = 168 h, 24 h, 60 min.
    polls = [
        (
            "s1",
            "inactive" if hour == 100 else "active",
            f"2023-01-{2 + hour // 24:02}T{hour % 24:02}:30:00Z",
        )
        for hour in range(24 * 8)
    ]
    workspace.load(status=polls, zones=[("s1", NY)])
    row = workspace.report()
    row = row["s1"]
    assert row["uptime_last_week"] + row["downtime_last_week"] == 168.0
    assert row["uptime_last_day"] + row["downtime_last_day"] == 24.0
    assert row["uptime_last_hour"] + row["downtime_last_hour"] == 60.0
    assert row["downtime_last_week"] == 1.0  # one poll stands for the hour around it


def test_missing_zone_means_chicago(workspace):
    # Open 09:00-10:00 Monday local. Without a zone row that is Chicago (15:00-16:00 UTC):
    # the 15:30 UTC poll is evidence. In New York (14:00-15:00 UTC) it would not be.
    workspace.load(
        status=[
            ("default", "active", "2023-01-09 15:30:00 UTC"),
            ("newyork", "active", "2023-01-09 15:30:00 UTC"),
        ],
        hours=[("default", 0, "09:00", "10:00"), ("newyork", 0, "09:00", "10:00")],
        zones=[("newyork", NY)],
    )
    rows = workspace.report(as_of=utc("2023-01-10 00:00"))
    assert week(rows["default"]) == (1.0, 0.0)
    assert rows["newyork"] == ZERO


def test_a_weekday_without_rows_is_closed(workspace):
    # Hours only on Monday: Tuesday's polls are not evidence, Tuesday adds no business time.
    workspace.load(
        status=[
            ("s1", "active", local(NY, "2023-01-09 10:00")),
            ("s1", "inactive", local(NY, "2023-01-10 10:00")),
        ],
        hours=[("s1", 0, "09:00", "12:00")],
        zones=[("s1", NY)],
    )
    assert week(workspace.report(as_of=utc("2023-01-11 00:00"))["s1"]) == (3.0, 0.0)


def test_end_equal_to_start_lasts_a_whole_day(workspace):
    # Monday 09:00-09:00: until Tuesday 09:00 (24 h).
    workspace.load(
        status=[("s1", "active", local(NY, "2023-01-09 10:00"))],
        hours=[("s1", 0, "09:00", "09:00")],
        zones=[("s1", NY)],
    )
    assert week(workspace.report(as_of=utc("2023-01-12 00:00"))["s1"]) == (24.0, 0.0)


def test_end_equal_to_start_every_day_stays_open_over_the_fall_back_night(workspace):
    # 00:00-00:00 every day is open around the clock, also across the 25-hour Sunday:
    # the week [now - 168 h, now) is all business time.
    workspace.load(
        status=[("s1", "active", "2023-11-03 12:00:00 UTC")],
        hours=[("s1", day, "00:00", "00:00") for day in range(7)],
        zones=[("s1", NY)],
    )
    assert week(workspace.report(as_of=utc("2023-11-08 12:00"))["s1"]) == (168.0, 0.0)


def test_end_time_2400_is_the_end_of_the_day(workspace):
    workspace.load(
        status=[("s1", "active", local(NY, "2023-01-09 20:00"))],
        hours=[("s1", 0, "18:00", "24:00")],
        zones=[("s1", NY)],
    )
    assert week(workspace.report(as_of=utc("2023-01-11 00:00"))["s1"]) == (6.0, 0.0)


def test_each_poll_covers_to_the_midpoints_first_and_last_cover_the_rest(workspace):
    # 24x7 store; polls at 00:00 up, 06:00 down, 08:00 up (UTC, day 2023-01-02);
    # now = 12:00: last day [01-01 12:00, 01-02 12:00):
    # up 12:00-03:00 (15 h: the first poll covers all before it), down 03:00-07:00 (4 h),
    # up 07:00-12:00 (5 h: the last poll covers all after it).
    workspace.load(
        status=[
            ("s1", "active", "2023-01-02 00:00:00"),
            ("s1", "inactive", "2023-01-02 06:00:00"),
            ("s1", "active", "2023-01-02 08:00:00"),
        ],
        zones=[("s1", "UTC")],
    )
    row = workspace.report(as_of=utc("2023-01-02 12:00"))["s1"]
    assert (row["uptime_last_day"], row["downtime_last_day"]) == (20.0, 4.0)
    assert (row["uptime_last_hour"], row["downtime_last_hour"]) == (60.0, 0.0)


def test_polls_at_one_instant_count_once_and_inactive_wins(workspace):
    result = workspace.load(
        status=[
            ("s1", "active", "2023-01-02 06:00:00 UTC"),
            ("s1", "active", "2023-01-02 06:00:00 UTC"),  # identical: counts once
            ("s2", "active", "2023-01-02 06:00:00 UTC"),
            ("s2", "INACTIVE ", "2023-01-02T06:00:00Z"),
        ],  # same instant, disagrees
        zones=[("s1", "UTC"), ("s2", "UTC")],
    )
    polls = next(row for row in load_rows(result) if row[0] == "polls")
    assert polls[3:5] == (2, 2)  # kept (one per store and instant), duplicates
    assert sorted(workspace.query("SELECT store_key, active FROM polls")) == [(1, True), (2, False)]
    rows = workspace.report()
    assert week(rows["s1"]) == (168.0, 0.0)
    assert week(rows["s2"]) == (0.0, 168.0)


def test_now_is_the_latest_poll_unless_as_of_is_given(workspace):
    # 24x7 store, active at 10:00, inactive at 12:00 UTC.
    workspace.load(
        status=[("s1", "active", "2023-01-02 10:00:00"), ("s1", "inactive", "2023-01-02 12:00:00")],
        zones=[("s1", "UTC")],
    )
    # now = 12:00: last hour 11:00-12:00 is all past the 11:00 midpoint: down.
    assert workspace.report()["s1"]["downtime_last_hour"] == 60.0
    # as of 11:00 the 12:00 poll is in the future and ignored: all up.
    row = workspace.report(as_of=utc("2023-01-02 11:00"))["s1"]
    assert row["uptime_last_week"] == 168.0 and row["downtime_last_week"] == 0.0


def test_stores_without_a_poll_up_to_now_have_no_row(workspace):
    workspace.load(
        status=[
            ("early", "active", "2023-01-02 10:00:00"),
            ("late", "active", "2023-01-05 10:00:00"),
        ],
        hours=[("hours_only", 0, "09:00", "17:00")],
        zones=[("zone_only", NY)],
    )
    assert list(workspace.report(as_of=utc("2023-01-03 00:00"))) == ["early"]
    assert list(workspace.report()) == ["early", "late"]


def test_windows_are_rolling_absolute_time(workspace):
    # 24x7 store in New York, now just after the spring-forward night: the last day is 24 real
    # hours (not the 23-hour calendar day), the week 168.
    workspace.load(status=[("s1", "active", "2023-03-12 12:00:00")], zones=[("s1", NY)])
    row = workspace.report()["s1"]
    assert (row["uptime_last_day"], row["uptime_last_week"]) == (24.0, 168.0)


def test_output_is_sorted_by_store_id_as_text_and_ids_survive(workspace):
    ids = [
        "9223372036854775807123",
        "1000000000000000001",
        "007",
        "0b49452d-46d4-43f3-9450-281c6c6f7633",
    ]
    workspace.load(status=[(i, "active", "2023-01-02 10:00:00") for i in ids])
    assert list(workspace.report()) == sorted(ids)


@pytest.mark.parametrize("zone", [NY, "Australia/Lord_Howe", "Europe/London", "Asia/Kolkata"])
def test_hand_cases_agree_with_the_reference(workspace, zone):
    # A mixed store over each zone's DST change, against the plain-Python reference.
    moments = {
        NY: "2023-11-05 12:00",
        "Australia/Lord_Howe": "2023-04-02 12:00",
        "Europe/London": "2023-10-29 12:00",
        "Asia/Kolkata": "2023-10-29 12:00",
    }
    now = datetime.fromisoformat(moments[zone]).replace(tzinfo=UTC)
    polls = [
        reference.Poll("s1", now.replace(hour=0) - i * (now - now.replace(hour=0)) / 9, i % 3 == 0)
        for i in range(40)
    ]
    hours = [
        reference.Hours("s1", day, start, end)
        for day in range(7)
        for start, end in [
            (reference.timedelta(hours=1, minutes=45), reference.timedelta(hours=2, minutes=15)),
            (reference.timedelta(hours=18), reference.timedelta(hours=1, minutes=30)),
        ]
    ]
    workspace.load(
        status=[
            (p.store_id, "active" if p.active else "inactive", p.at.isoformat()) for p in polls
        ],
        hours=[(h.store_id, h.day, str(h.start), str(h.end)) for h in hours],
        zones=[("s1", zone)],
    )
    expected = reference.report(polls, hours, {"s1": zone}, as_of=now)["s1"]
    got = workspace.report(as_of=now)["s1"]
    for column, value in expected.items():
        assert got[column] == pytest.approx(value, abs=0.0051), column
