"""Real-shaped generated data (every kind of hours, zones with and without DST, outages):
the SQL report equals the reference for every store, and the invariants hold."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta

import pytest

from storemon.generate import generate
from storemon.ingest import ingest
from tests import reference


def read_inputs(files):
    with files.status.open() as handle:
        polls = [
            reference.Poll(
                row["store_id"],
                datetime.strptime(row["timestamp_utc"], "%Y-%m-%d %H:%M:%S.%f UTC").replace(
                    tzinfo=UTC
                ),
                row["status"] == "active",
            )
            for row in csv.DictReader(handle)
        ]
    with files.hours.open() as handle:
        hours = [
            reference.Hours(
                row["store_id"],
                int(row["dayOfWeek"]),
                reference.clock(row["start_time_local"]),
                reference.clock(row["end_time_local"]),
            )
            for row in csv.DictReader(handle)
        ]
    with files.timezones.open() as handle:
        zones = {row["store_id"]: row["timezone_str"] for row in csv.DictReader(handle)}
    return polls, hours, zones


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("generated"), stores=120, days=9, seed=11)


@pytest.mark.parametrize("as_of", [None, datetime(2023, 3, 12, 9, 30, tzinfo=UTC)])
def test_generated_week_matches_the_reference_and_invariants_hold(workspace, generated, as_of):
    ingest(workspace.con, generated.status, generated.hours, generated.timezones)
    got = workspace.report(as_of)
    polls, hours, zones = read_inputs(generated)
    expected = reference.report(polls, hours, zones, as_of)
    assert list(got) == list(expected)
    assert len(got) == 120

    now = as_of or max(p.at for p in polls)
    now_us = reference.micros(now)
    for store_id, figures in expected.items():
        row = got[store_id]
        for column, value in figures.items():
            assert row[column] == pytest.approx(value, abs=0.00501), (store_id, column)

        # Invariants: bounds, and up + down = business time in the window (with evidence).
        assert row["uptime_last_hour"] + row["downtime_last_hour"] <= 60.01
        assert row["uptime_last_day"] + row["downtime_last_day"] <= 24.01
        assert row["uptime_last_week"] + row["downtime_last_week"] <= 168.01
        if not any(figures.values()):
            continue
        intervals = reference.business_intervals(
            [h for h in hours if h.store_id == store_id],
            reference.ZoneInfo(zones.get(store_id, reference.DEFAULT_ZONE)),
            (now - timedelta(days=10)).date(),
            now.date() + timedelta(days=1),
        )
        for name, hours_back, unit in (
            ("hour", 1, 60 * reference.US),
            ("day", 24, reference.HOUR),
            ("week", 168, reference.HOUR),
        ):
            start = now_us - hours_back * reference.HOUR
            business = sum(reference.overlap(start, now_us, o, c) for o, c in intervals) / unit
            total = figures[f"uptime_last_{name}"] + figures[f"downtime_last_{name}"]
            assert total == pytest.approx(business, abs=1e-9), (store_id, name)
            assert row[f"uptime_last_{name}"] + row[f"downtime_last_{name}"] == pytest.approx(
                business, abs=0.0101
            )


def test_generated_week_outages_match_the_reference(workspace, generated):
    ingest(workspace.con, generated.status, generated.hours, generated.timezones)
    workspace.report()
    polls, hours, zones = read_inputs(generated)
    expected = reference.outages(polls, hours, zones)
    got = workspace.outages()
    assert got == {store: listed for store, listed in expected.items() if listed}
    assert sum(map(len, got.values())) > 50  # generated data has many outages
