"""Property tests: for random stores, hours, zones, polls and as-of instants, the SQL report
equals the plain-Python reference of SPEC.md for every store (to the rounding, 0.005), and so do
its outages (every field, exactly) and their summary."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from storemon.errors import StoremonError
from tests import reference
from tests.conftest import Workspace

# Zones with DST of both hemispheres, a 30-minute DST, odd offsets, and none at all.
ZONES = [
    None,
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Phoenix",
    "America/St_Johns",
    "Europe/London",
    "Europe/Berlin",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Asia/Kolkata",
    "UTC",
]
# Reports are taken near these instants: DST changes of the zones above, and a quiet day.
ANCHORS = [
    datetime(2023, 3, 12, 7, tzinfo=UTC),
    datetime(2023, 11, 5, 6, tzinfo=UTC),
    datetime(2023, 3, 26, 1, tzinfo=UTC),
    datetime(2023, 10, 29, 1, tzinfo=UTC),
    datetime(2023, 4, 1, 15, tzinfo=UTC),
    datetime(2023, 9, 30, 16, tzinfo=UTC),
    datetime(2023, 6, 14, 12, tzinfo=UTC),
]
TIMES = [
    "00:00",
    "00:30",
    "01:00",
    "01:30",
    "01:45",
    "02:00",
    "02:30",
    "03:00",
    "09:00",
    "23:59:59",
]
QUARTER = timedelta(minutes=15)
REACH = timedelta(days=7)  # the latest as-of: the latest poll + 7 days


def clock(minutes: int) -> str:
    return f"{minutes // 60:02}:{minutes % 60:02}"


time_text = st.one_of(st.sampled_from(TIMES), st.integers(0, 24 * 60 - 1).map(clock))
hours_row = st.tuples(st.integers(0, 6), time_text, st.one_of(time_text, st.just("24:00")))
# Offsets from the report's anchor: a coarse grid (so polls share instants and sit on
# interval edges) and a fine one.
poll_offset = st.one_of(
    st.integers(-9 * 96, 96).map(lambda q: q * QUARTER),
    st.integers(-9 * 86400 * 10**6, 86400 * 10**6).map(lambda us: timedelta(microseconds=us)),
)
store = st.fixed_dictionaries(
    {
        "zone": st.sampled_from(ZONES),
        "hours": st.one_of(st.just([]), st.lists(hours_row, min_size=1, max_size=6)),
        "polls": st.lists(st.tuples(poll_offset, st.booleans()), max_size=25),
    }
)
dataset = st.fixed_dictionaries(
    {
        "anchor": st.sampled_from(ANCHORS),
        "shift": st.integers(-3 * 24, 8 * 24).map(lambda h: timedelta(hours=h)),
        "stores": st.lists(store, min_size=1, max_size=4),
        "as_of": st.one_of(st.none(), poll_offset),
    }
)


@pytest.fixture(scope="module")
def shared_workspace():
    with tempfile.TemporaryDirectory() as folder:
        ws = Workspace(Path(folder))
        yield ws
        ws.con.close()


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=dataset)
def test_sql_report_equals_the_reference(shared_workspace, data):
    base = data["anchor"] + data["shift"]
    polls, hours, zones = [], [], {}
    for number, spec in enumerate(data["stores"]):
        store_id = f"{number + 1:019d}"
        polls += [
            reference.Poll(store_id, base + offset, active) for offset, active in spec["polls"]
        ]
        hours += [
            reference.Hours(store_id, day, reference.clock(start), reference.clock(end))
            for day, start, end in spec["hours"]
        ]
        if spec["zone"]:
            zones[store_id] = spec["zone"]
    as_of = base + data["as_of"] if data["as_of"] is not None else None

    shared_workspace.load(
        status=[
            (
                p.store_id,
                "active" if p.active else "inactive",
                p.at.strftime("%Y-%m-%d %H:%M:%S.%f UTC"),
            )
            for p in polls
        ],
        hours=[
            (h.store_id, h.day, start, end)
            for h, (_, start, end) in zip(
                hours, [row for spec in data["stores"] for row in spec["hours"]], strict=True
            )
        ],
        zones=list(zones.items()),
    )
    # SPEC "Report time and windows": an as-of outside [first poll, latest poll + 7 days] is
    # refused, with the range that would be accepted.
    if (
        polls
        and as_of
        and not min(p.at for p in polls) <= as_of <= max(p.at for p in polls) + REACH
    ):
        event("as_of refused")
        with pytest.raises(StoremonError, match="is outside the loaded polls: choose an instant"):
            shared_workspace.report(as_of)
        return
    expected = reference.report(polls, hours, zones, as_of)
    if not polls:
        assert expected == {}
        return
    got = shared_workspace.report(as_of)

    assert list(got) == list(expected)
    event("stores with evidence", str(sum(any(f.values()) for f in expected.values())))
    for store_id, figures in expected.items():
        row = got[store_id]
        for column, value in figures.items():
            assert row[column] == pytest.approx(value, abs=0.00501), (store_id, column)
        assert row["uptime_last_hour"] + row["downtime_last_hour"] <= 60.0 + 0.01
        assert row["uptime_last_day"] + row["downtime_last_day"] <= 24.0 + 0.01
        assert row["uptime_last_week"] + row["downtime_last_week"] <= 168.0 + 0.01

    # SPEC "Outages": every outage and summary field, exactly; outage down time adds up to the
    # downtime of each window.
    expected_outages = reference.outages(polls, hours, zones, as_of)
    got_outages = shared_workspace.outages()
    summary = shared_workspace.outage_summary()
    assert list(summary) == list(expected)
    event("outages", str(min(3, sum(map(len, expected_outages.values())))))
    listed_all = [o for listed in expected_outages.values() for o in listed]
    for flag in ("ongoing", "began_before_week"):
        if any(o[flag] for o in listed_all):
            event(f"an outage {flag}")
    for store_id, listed in expected_outages.items():
        assert got_outages.get(store_id, []) == listed, store_id
        want = reference.outage_summary(listed)
        row = summary[store_id]
        for column in ("outages_last_hour", "outages_last_day", "outages_last_week", "down_now"):
            assert row[column] == want[column], (store_id, column)
        assert row["last_outage_started_at"] == want["last_outage_started_at"], store_id
        for window in ("day", "week"):
            assert float(row[f"longest_outage_last_{window}"]) == pytest.approx(
                want[f"longest_outage_last_{window}_us"] / 3600e6, abs=0.00501
            ), (store_id, window)
        downtime = expected[store_id]
        assert sum(o["down_us_last_hour"] for o in listed) / 60e6 == pytest.approx(
            downtime["downtime_last_hour"], abs=1e-9
        )
        assert sum(o["down_us_last_day"] for o in listed) / 3600e6 == pytest.approx(
            downtime["downtime_last_day"], abs=1e-9
        )
        assert sum(o["down_us"] for o in listed) / 3600e6 == pytest.approx(
            downtime["downtime_last_week"], abs=1e-9
        )
