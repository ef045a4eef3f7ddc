"""Property tests: for random stores, hours, zones, polls and as-of instants, the SQL report
equals the plain-Python reference of sql/README.md's rules for every store (to the rounding,
0.005), and so do its outages (every field, exactly) and their summary."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from storemon.errors import StoremonError
from tests import reference
from tests.conftest import Workspace, examples

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
# Special hours: dates around the report's anchor (its DST night among them), closed (None) or
# with times (overnight ones too), a date given twice (a closed row beside an interval row).
special_row = st.tuples(
    st.integers(-9, 1), st.one_of(st.none(), st.tuples(time_text, time_text | st.just("24:00")))
)
store = st.fixed_dictionaries(
    {
        "zone": st.sampled_from(ZONES),
        "hours": st.one_of(st.just([]), st.lists(hours_row, min_size=1, max_size=6)),
        "polls": st.lists(st.tuples(poll_offset, st.booleans()), max_size=25),
        "special": st.one_of(st.just([]), st.lists(special_row, min_size=1, max_size=4)),
    }
)
# Groups: random assignments of stores (and of a store with no polls, number 9) to a few
# labels, a store in several groups, a label with a comma and quotes.
GROUP_LABELS = ("owner:a", "owner:b", "brand:x", 'region:"north, east"', "région:ü")
group_row = st.tuples(st.sampled_from((1, 2, 3, 4, 9)), st.sampled_from(GROUP_LABELS))
dataset = st.fixed_dictionaries(
    {
        "anchor": st.sampled_from(ANCHORS),
        "shift": st.integers(-3 * 24, 8 * 24).map(lambda h: timedelta(hours=h)),
        "stores": st.lists(store, min_size=1, max_size=4),
        "as_of": st.one_of(st.none(), poll_offset),
        "groups": st.lists(group_row, max_size=8),
    }
)


@pytest.fixture(scope="module")
def shared_workspace():
    with tempfile.TemporaryDirectory() as folder:
        ws = Workspace(Path(folder))
        yield ws
        ws.con.close()


def check(
    workspace,
    stores: list[dict],
    base: datetime,
    as_of: datetime | None,
    groups: list[tuple[int, str]] = (),
) -> None:
    """Load the stores (zone, hours, polls as (instant, active)) and their groups (store
    number, label), and compare the report, its outages, their summary and the roll-ups with
    the reference."""
    groups = [(f"{number:019d}", label) for number, label in groups]
    polls, hours, zones = [], [], {}
    hours_text, special, special_text = [], [], []
    for number, spec in enumerate(stores):
        store_id = f"{number + 1:019d}"
        polls += [reference.Poll(store_id, at, active) for at, active in spec["polls"]]
        hours += [
            reference.Hours(store_id, day, reference.clock(start), reference.clock(end))
            for day, start, end in spec["hours"]
        ]
        hours_text += [(store_id, day, start, end) for day, start, end in spec["hours"]]
        for offset, times in spec.get("special", []):
            day = base.date() + timedelta(days=offset)
            start, end = times or ("", "")
            special.append(
                reference.Special(
                    store_id,
                    day,
                    reference.clock(start) if start else None,
                    reference.clock(end) if end else None,
                )
            )
            special_text.append((store_id, day.isoformat(), start, end))
        if spec["zone"]:
            zones[store_id] = spec["zone"]

    workspace.load(
        status=[
            (
                p.store_id,
                "active" if p.active else "inactive",
                p.at.strftime("%Y-%m-%d %H:%M:%S.%f UTC"),
            )
            for p in polls
        ],
        hours=hours_text,
        zones=list(zones.items()),
        special=special_text,
        groups=groups,
    )
    if special:
        event("special hours")
    # sql/README.md, rule 1: an as-of outside [first poll, latest poll + 7 days] is
    # refused, with the range that would be accepted.
    if (
        polls
        and as_of
        and not min(p.at for p in polls) <= as_of <= max(p.at for p in polls) + REACH
    ):
        event("as_of refused")
        with pytest.raises(StoremonError, match="is outside the loaded polls: choose an instant"):
            workspace.report(as_of)
        return
    expected = reference.report(polls, hours, zones, as_of, special)
    if not polls:
        assert expected == {}
        return
    got = workspace.report(as_of)

    assert list(got) == list(expected)
    event("stores with evidence", str(sum(any(f.values()) for f in expected.values())))
    for store_id, figures in expected.items():
        row = got[store_id]
        for column, value in figures.items():
            assert row[column] == pytest.approx(value, abs=0.00501), (store_id, column)
        assert row["uptime_last_hour"] + row["downtime_last_hour"] <= 60.0 + 0.01
        assert row["uptime_last_day"] + row["downtime_last_day"] <= 24.0 + 0.01
        assert row["uptime_last_week"] + row["downtime_last_week"] <= 168.0 + 0.01

    # sql/README.md, rule 8: every outage and summary field, exactly; outage down time adds up
    # to the downtime of each window.
    expected_outages = reference.outages(polls, hours, zones, as_of, special)
    got_outages = workspace.outages()
    summary = workspace.outage_summary()
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

    # sql/README.md, rule 10: each group's sums over its report stores, rounded once.
    expected_rollups = reference.rollups(polls, hours, zones, groups, as_of, special)
    got_rollups = workspace.rollups()
    assert list(got_rollups) == list(expected_rollups)
    event("groups in the roll-ups", str(min(3, len(expected_rollups))))
    for group, want in expected_rollups.items():
        row = got_rollups[group]
        for column, value in want.items():
            if column.startswith(("uptime_last", "downtime_last")):
                assert float(row[column]) == pytest.approx(value, abs=0.00501), (group, column)
            elif column.startswith("uptime_ratio"):
                assert (row[column] is None) == (value is None), (group, column)
                if value is not None:
                    assert float(row[column]) == pytest.approx(value, abs=0.0000501), group
            else:
                assert row[column] == value, (group, column)


SETTINGS = settings(
    max_examples=examples(12),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(data=dataset)
def test_sql_report_equals_the_reference(shared_workspace, data):
    base = data["anchor"] + data["shift"]
    stores = [
        {**spec, "polls": [(base + offset, active) for offset, active in spec["polls"]]}
        for spec in data["stores"]
    ]
    as_of = base + data["as_of"] if data["as_of"] is not None else None
    check(shared_workspace, stores, base, as_of, data["groups"])


def intervals_near(spec: dict, base: datetime) -> list[list[int]]:
    """The store's merged business intervals from ten days before `base` to one day after."""
    rows = [
        reference.Hours("", day, reference.clock(start), reference.clock(end))
        for day, start, end in spec["hours"]
    ]
    zone = reference.ZoneInfo(spec["zone"] or reference.DEFAULT_ZONE)
    day = base.date()
    return reference.business_intervals(
        rows, zone, day - timedelta(days=10), day + timedelta(days=1)
    )


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def instant(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


@SETTINGS
@given(data=st.data())
def test_polls_on_opening_and_closing_instants_and_reports_as_of_them(shared_workspace, data):
    # Hand-typed files with round hours put polls on the very instants a store opens and closes,
    # and the default `now` (the latest poll) on one of them. Each store's latest poll is on an
    # edge of one of its intervals (its opening instant, the microsecond before it, its last
    # microsecond or its closing instant), the poll before it on the previous interval's edges or
    # inside it, and a few more on edges before them; the report is as of the latest poll of
    # all, or of one store's latest. So a last poll at now that stands for no open time, and
    # evidence decided by one microsecond, are generated, with all-active stores among them.
    base = data.draw(st.sampled_from(ANCHORS)) + data.draw(
        st.integers(-3 * 24, 8 * 24).map(lambda h: timedelta(hours=h))
    )
    stores, ends = [], []
    for spec in data.draw(st.lists(store, min_size=1, max_size=3)):
        intervals = intervals_near(spec, base)
        if len(intervals) < 2:
            stores.append(spec | {"polls": []})
            continue
        k = data.draw(st.integers(1, len(intervals) - 1))
        (o0, c0), (o1, c1) = intervals[k - 1], intervals[k]
        end = data.draw(st.sampled_from([o1, o1, o1 - 1, c1 - 1, c1]))
        before = data.draw(
            st.sampled_from([c0 - 1, c0, o0, (o0 + c0) // 2, data.draw(st.integers(o0, c0 - 1))])
        )
        edges = sorted({e for o, c in intervals[:k] for e in (o, o - 1, c - 1, c)} - {before})
        earlier = data.draw(st.lists(st.sampled_from(edges), max_size=4)) if edges else []
        instants = sorted({*earlier, before, end})
        all_active = data.draw(st.booleans())
        if all_active:
            event("a store with only active polls")
        if end == o1:
            event("a store's latest poll on an opening instant")
        polls = [(instant(us), all_active or data.draw(st.booleans())) for us in instants]
        stores.append(spec | {"polls": polls})
        ends.append(instant(end))
    as_of = data.draw(st.one_of(st.none(), st.sampled_from(ends))) if ends else None
    check(shared_workspace, stores, base, as_of)
